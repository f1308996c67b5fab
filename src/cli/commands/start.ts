import { fileURLToPath } from 'node:url';
import { isCognitionError } from '../../errors.js';
import type { Command } from '../command.js';
import { openContext } from '../context.js';

const EXAMPLE_TEMPLATE = fileURLToPath(new URL('../../../examples/notes/template/', import.meta.url));

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
  summary: 'Run the local stack: embedded Postgres, migrations, a demo tenant (the main job)',
  usage: 'pg-cognition start [--once] [--template <folder>]',
  help: `Starts the embedded Postgres (data under .cognition/, kept across restarts), applies the
migrations, applies the example template (examples/notes) to tenant_template, creates the
tenant "demo" with an admin and a user, and prints how to connect and what to try. Keeps
running until Ctrl-C, so other terminals can use the CLI against the same database.
With DATABASE_URL set, it uses that database instead of the embedded one.

--once          set everything up, print, and exit
--template DIR  template migrations to apply (default: the notes example)`,
  options: { once: { type: 'boolean' }, template: { type: 'string' } },
  async run({ values }, out) {
    const ctx = await openContext(out);
    const { cognition } = ctx;
    try {
      out.info(
        ctx.embedded
          ? `Postgres ${ctx.embedded.owned ? 'started' : 'already running'} on port ${ctx.embedded.port} (data in ${ctx.home}/postgres)`
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

Connect as the superuser:
  psql "${ctx.databaseUrl}"

Try, in another terminal:
  ${cli} sql --as user@demo.test "select id, title, owner_id from notes"
  ${cli} tenant create acme --name "Acme Corp"
  ${cli} user invite alice@acme.test --tenant acme --role admin
  ${cli} user provision alice@acme.test
  ${cli} sql --as alice@acme.test "insert into notes (title) values ('hello from acme') returning *"
  ${cli} sql --as user@demo.test "select * from tenant_acme.notes"     # denied: another tenant
  ${cli} user suspend user@demo.test
  ${cli} sql --as user@demo.test "select 1"                             # denied: suspended
  ${cli} --help
`);
      if (values.once === true || !ctx.embedded?.owned) return;
      out.info('Press Ctrl-C to stop Postgres.');
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      out.info('stopping Postgres');
    } finally {
      await ctx.close();
    }
  },
};
