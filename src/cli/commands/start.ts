import { fileURLToPath } from 'node:url';
import { isCognitionError } from '../../errors.js';
import { startLocalStack } from '../../local/stack.js';
import { stringOption, usageError, type Command } from '../command.js';
import { cognitionHome, secretStoreConfig } from '../context.js';

const EXAMPLE_TEMPLATE = fileURLToPath(new URL('../../../examples/notes/template/', import.meta.url));
const DEFAULT_PORT = 9790;

const DEMO_USERS = [
  { email: 'admin@demo.test', role: 'admin' as const, givenName: 'Ada', note: 'Welcome to the demo tenant' },
  {
    email: 'user@demo.test',
    role: 'user' as const,
    givenName: 'Uma',
    note: 'Notes are shared within a tenant',
  },
];

export const startCommand: Command = {
  path: ['start'],
  summary: 'Run the local stack: Postgres, migrations, local user pool, a demo tenant (the main job)',
  usage: 'pg-cognition start [--once] [--port <n>] [--template <folder>]',
  help: `Starts the embedded Postgres (data under .cognition/, kept across restarts), applies the
migrations, starts the local Cognito-compatible user pool (wired to the same trigger handlers
that run in AWS Lambda), applies the example template (examples/notes) to tenant_template,
creates the tenant "demo" with an admin and a user, and prints how to connect and what to try.
Keeps running until Ctrl-C, so other terminals can use the CLI and the user pool.
With DATABASE_URL set, it uses that database instead of the embedded one.

--once          set everything up, print, and exit
--port N        port of the local user pool (default ${DEFAULT_PORT}, or COGNITION_PORT; 0 = any)
--template DIR  template migrations to apply (default: the notes example)`,
  options: { once: { type: 'boolean' }, template: { type: 'string' }, port: { type: 'string' } },
  async run({ values }, out) {
    const port = Number(stringOption(values, 'port') ?? process.env.COGNITION_PORT ?? DEFAULT_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError('--port must be 0-65535');
    const home = cognitionHome();
    const stack = await startLocalStack({
      home,
      ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
      secrets: secretStoreConfig(home),
      secretPrefix: process.env.COGNITION_SECRET_PREFIX ?? 'pg-cognition',
      port,
      log: (line) => out.info(`[user pool] ${line}`),
    });
    const { cognition, userPool } = stack;
    try {
      out.info(
        stack.embedded
          ? `Postgres ${stack.embedded.owned ? 'started' : 'already running'} on port ${stack.embedded.port} (data in ${home}/postgres)`
          : 'using DATABASE_URL',
      );
      const report = await cognition.migrateTemplates({
        dir: typeof values.template === 'string' ? values.template : EXAMPLE_TEMPLATE,
      });
      for (const t of report.template.filter((m) => m.status === 'applied')) {
        out.info(`template migration applied: ${t.version}_${t.name}`);
      }
      if (!(await cognition.tenants.get('demo'))) {
        const tenant = await cognition.tenants.create({ slug: 'demo', name: 'Demo Tenant' });
        out.info(`created tenant ${tenant.slug} (schema ${tenant.schemaName})`);
      }
      for (const demo of DEMO_USERS) {
        try {
          await cognition.users.invite({
            email: demo.email,
            tenant: 'demo',
            role: demo.role,
            givenName: demo.givenName,
          });
        } catch (error) {
          if (!isCognitionError(error, 'ERR_USER_EXISTS')) throw error;
        }
        const { user, created } = await cognition.users.provision(demo.email);
        if (created) {
          await cognition.runAs(user, 'insert into notes (title) values ($1)', [demo.note]);
          out.info(`provisioned ${demo.email} (${demo.role}, database role ${user.dbUsername})`);
        }
      }
      const cli = 'npm run -s cli --';
      out.info(`
pg-cognition is ready.

Postgres (superuser):  ${stack.databaseUrl}
Local user pool:       ${userPool.url}
  pool id              ${userPool.poolId}
  client id            ${userPool.clientId}
  issuer               ${userPool.issuer}
  JWKS                 ${userPool.jwksUri}
(also written to ${home}/stack.json)

Try, in another terminal:
  ${cli} sql --as user@demo.test "select id, title, owner_id from notes"
  ${cli} tenant create acme --name "Acme Corp"
  ${cli} user invite alice@acme.test --tenant acme --role admin
  npx tsx examples/cognito.ts sign-up alice@acme.test 'Passw0rd!'      # SignUp, confirm, log in (AWS SDK)
  ${cli} sql --as alice@acme.test "select current_user, email, status from cognition.users"
  ${cli} sql --as user@demo.test "select * from tenant_acme.notes"      # denied: another tenant
  ${cli} user suspend alice@acme.test
  npx tsx examples/cognito.ts log-in alice@acme.test 'Passw0rd!'       # refused: suspended
  npx tsx examples/cognito.ts refresh alice@acme.test                   # refused: suspended
  ${cli} --help
`);
      if (values.once === true) return;
      out.info('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      out.info('stopping');
    } finally {
      await stack.close();
    }
  },
};
