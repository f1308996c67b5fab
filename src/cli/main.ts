import { parseArgs } from 'node:util';
import { CognitionError, isCognitionError, pgErrorOf } from '../errors.js';
import { usageError, type Command } from './command.js';
import { migrateCommand } from './commands/migrate.js';
import { rolesDeclareCommand, rolesListCommand } from './commands/roles.js';
import { sqlCommand } from './commands/sql.js';
import { startCommand } from './commands/start.js';
import { templateMigrateCommand } from './commands/template.js';
import {
  tenantCreateCommand,
  tenantDropCommand,
  tenantListCommand,
  tenantRenameCommand,
  tenantStatusCommand,
} from './commands/tenant.js';
import {
  userInviteCommand,
  userListCommand,
  userProvisionCommand,
  userStatusCommand,
} from './commands/user.js';
import { createOutput } from './output.js';

export const COMMANDS: Command[] = [
  startCommand,
  migrateCommand,
  tenantCreateCommand,
  tenantListCommand,
  tenantRenameCommand,
  tenantStatusCommand('suspended'),
  tenantStatusCommand('active'),
  tenantDropCommand,
  rolesListCommand,
  rolesDeclareCommand,
  userInviteCommand,
  userProvisionCommand,
  userListCommand,
  userStatusCommand('suspend'),
  userStatusCommand('reactivate'),
  userStatusCommand('remove'),
  sqlCommand,
  templateMigrateCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.path.join(' ').length));
  return [
    'pg-cognition: multi-tenant Postgres with authorization in the database',
    '',
    'Usage: pg-cognition <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help and --json. The database is DATABASE_URL, or the embedded',
    'Postgres under .cognition/ (COGNITION_HOME). Secrets: COGNITION_SECRET_STORE=local|aws.',
  ].join('\n');
}

function commandHelp(c: Command): string {
  return `${c.summary}\n\nUsage: ${c.usage}\n\n${c.help}\n`;
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  let best: Command | undefined;
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => words[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  if (!best) return undefined;
  const rest = [...argv];
  for (const word of best.path) rest.splice(rest.indexOf(word), 1);
  return { command: best, rest };
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const out = createOutput(json);
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  try {
    if (argv.length === 0 || (wantsHelp && argv.filter((a) => !a.startsWith('-')).length === 0)) {
      process.stdout.write(`${overview()}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    const found = findCommand(argv);
    if (!found) {
      const group = COMMANDS.filter((c) => c.path[0] === argv[0]);
      if (wantsHelp && group.length > 0) {
        process.stdout.write(group.map(commandHelp).join('\n'));
        return 0;
      }
      throw usageError(
        group.length > 0
          ? `"${argv[0]}" needs a subcommand: ${group.map((c) => c.path.slice(1).join(' ')).join(', ')}`
          : `unknown command "${argv[0]}" (see pg-cognition --help)`,
      );
    }
    const { command, rest } = found;
    if (wantsHelp) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: rest,
        options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, ...command.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (error) {
      throw usageError(`${(error as Error).message}\nUsage: ${command.usage}`);
    }
    const { min, max } = command.positionals ?? { min: 0, max: 0 };
    if (parsed.positionals.length < min || parsed.positionals.length > max) {
      throw usageError(`wrong number of arguments\nUsage: ${command.usage}`);
    }
    const code = await command.run({ positionals: parsed.positionals, values: parsed.values }, out);
    return typeof code === 'number' ? code : 0;
  } catch (error) {
    return report(error, json);
  }
}

function report(error: unknown, json: boolean): number {
  let code: string;
  let message: string;
  if (isCognitionError(error)) {
    code = error.code;
    message = error.message;
  } else if (pgErrorOf(error)) {
    code = 'ERR_SQL';
    message = (error as Error).message;
  } else {
    code = 'ERR_INTERNAL';
    message = error instanceof Error ? error.message : String(error);
  }
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
  else process.stderr.write(`error ${code}: ${message}\n`);
  if (!isCognitionError(error) && !pgErrorOf(error) && process.env.COGNITION_DEBUG) {
    process.stderr.write(`${(error as Error).stack ?? ''}\n`);
  }
  return error instanceof CognitionError && error.code === 'ERR_USAGE' ? 2 : 1;
}
