import type { ExecutionMode } from '../../cognition.js';
import { requiredOption, stringOption, usageError, type Command } from '../command.js';
import { withContext } from '../context.js';

export const sqlCommand: Command = {
  path: ['sql'],
  summary: 'Run one SQL statement as a user and print the rows',
  usage:
    'pg-cognition sql --as <email> [--mode role-switch|credentials] [--param <value>]... "<statement>" [--json]',
  help: `Runs the statement exactly as the user's requests run: as the user's database role, in
the user's tenant schema (unqualified names resolve there), with the database's policies
deciding what it sees. Values go in as bound parameters ($1, $2, ...) with --param.
This is the way to try a policy by hand.

Examples:
  pg-cognition sql --as alice@acme.test "select * from notes"
  pg-cognition sql --as bob@globex.test --param 1 "select * from notes where id = $1"
  pg-cognition sql --as bob@globex.test "select * from tenant_acme.notes"   # denied`,
  options: {
    as: { type: 'string' },
    mode: { type: 'string' },
    param: { type: 'string', multiple: true },
  },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, out) {
    const as = requiredOption(values, 'as');
    const mode = (stringOption(values, 'mode') ?? 'role-switch') as ExecutionMode;
    if (mode !== 'role-switch' && mode !== 'credentials')
      throw usageError('--mode must be role-switch or credentials');
    const params = (values.param as string[] | undefined) ?? [];
    return withContext(out, async (ctx) => {
      const result = await ctx.cognition.runAs(as, positionals[0] as string, params, { mode });
      out.result({ command: result.command, rowCount: result.rowCount, rows: result.rows }, () => {
        if (result.fields.length > 0)
          out.table(
            result.rows,
            result.fields.map((f) => f.name),
          );
        else out.info(`${result.command} ${result.rowCount ?? ''}`.trim());
      });
    });
  },
};
