import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CognitionError } from '../../errors.js';
import { loadApp } from '../../local/app.js';
import { ensurePoolLogin } from '../../local/pool-users.js';
import { startLocalStack } from '../../local/stack.js';
import { formatTable } from '../output.js';
import { stringOption, usageError, type Command } from '../command.js';
import { cognitionHome, secretStoreConfig } from '../context.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const DEFAULT_PORT = 9790;

export const startCommand: Command = {
  path: ['start'],
  summary:
    'Run the local stack: Postgres, user pool, GraphQL endpoint, an example application (the main job)',
  usage: 'pg-cognition start [--app <folder or example name>] [--port <n>] [--once]',
  help: `Starts the embedded Postgres (data under .cognition/, kept across restarts), applies the
migrations, starts the local Cognito-compatible user pool (wired to the same trigger handlers
that run in AWS Lambda) and, on the same port, the local GraphQL endpoint and its explorer when
the application has a schema. Loads an application folder (template/, schema.graphql,
resolvers.ts, seed.ts): applies its template, runs its seed, gives the seeded users a login on
the local user pool, and prints how to connect and what to try. Keeps running until Ctrl-C.
With DATABASE_URL set, it uses that database instead of the embedded one.

--app APP     an application folder, or an example name: agents (default), notes or patterns
--port N      port of the user pool and GraphQL endpoint (default ${DEFAULT_PORT}, or COGNITION_PORT; 0 = any)
--once        set everything up, print, and exit`,
  options: { once: { type: 'boolean' }, app: { type: 'string' }, port: { type: 'string' } },
  async run({ values }, out) {
    const port = Number(stringOption(values, 'port') ?? process.env.COGNITION_PORT ?? DEFAULT_PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError('--port must be 0-65535');
    const appName = stringOption(values, 'app') ?? 'agents';
    const app = await loadApp(/^[a-z]+$/.test(appName) ? resolve(EXAMPLES, appName) : resolve(appName));
    const home = cognitionHome();
    if (!process.env.DATABASE_URL) await claimHome(home, app.name);
    const stack = await startLocalStack({
      home,
      ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
      secrets: secretStoreConfig(home),
      secretPrefix: process.env.COGNITION_SECRET_PREFIX ?? 'pg-cognition',
      port,
      app,
      log: (line) => out.info(`[user pool] ${line}`),
    }).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'EADDRINUSE') {
        throw new CognitionError(
          'ERR_CONFIG',
          `port ${port} is in use (is the stack already running?); choose another with --port or COGNITION_PORT`,
        );
      }
      throw error;
    });
    const { userPool } = stack;
    try {
      out.info(
        stack.embedded
          ? `Postgres ${stack.embedded.owned ? 'started' : 'already running'} on port ${stack.embedded.port} (data in ${home}/postgres)`
          : 'using DATABASE_URL',
      );
      out.info(`application ${app.name}: template applied`);
      const logins: Record<string, unknown>[] = [];
      let password = '<password>';
      if (app.seed) {
        const seeded = await app.seed(stack.cognition);
        password = seeded.password;
        for (const user of seeded.users) {
          const login = await ensurePoolLogin(userPool, user.email, seeded.password);
          logins.push({
            email: user.email,
            tenant: user.tenant,
            role: user.role,
            title: user.title ?? '',
            login,
          });
        }
        out.info(`\nSeeded users (password ${seeded.password}):\n${formatTable(logins)}`);
      }
      // Commands in another terminal must reach the same home.
      const envPrefix =
        home === resolve('.cognition') || process.env.DATABASE_URL ? '' : `COGNITION_HOME=${home} `;
      const cli = `${envPrefix}npm run -s cli --`;
      const first = logins[0]?.email as string | undefined;
      const graphqlHelp = stack.graphql
        ? `GraphQL endpoint:      ${userPool.url}/graphql
Explorer (sign in):    ${userPool.url}/explorer
Subscriptions:         ${userPool.url.replace(/^http/, 'ws')}/graphql/realtime (AppSync real-time protocol)

  TOKEN=$(${envPrefix}npx tsx examples/cognito.ts token ${first ?? '<email>'} '${password}')
  curl -s ${userPool.url}/graphql -H "authorization: $TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"${(app.tryQuery ?? '{ __typename }').replace(/"/g, '\\"')}"}'
`
        : '';
      out.info(`
pg-cognition is ready.

Postgres (superuser):  ${stack.databaseUrl}
Local user pool:       ${userPool.url}
  pool id              ${userPool.poolId}
  client id            ${userPool.clientId}
  issuer               ${userPool.issuer}
  JWKS                 ${userPool.jwksUri}
${graphqlHelp}(all of this is also in ${home}/stack.json)

Try, in another terminal:
  ${cli} tenant create initech --name "Initech"
  ${cli} user invite peter@initech.test --tenant initech     # the lowest rank; see ${cli} roles list
  ${envPrefix}npx tsx examples/cognito.ts sign-up peter@initech.test 'Passw0rd!'   # SignUp, confirm, log in (AWS SDK)
  ${cli} sql --as peter@initech.test "select current_user, email, role, status from cognition.users"
  ${cli} user suspend peter@initech.test
  ${envPrefix}npx tsx examples/cognito.ts log-in peter@initech.test 'Passw0rd!'    # refused: suspended
  ${cli} --help
`);
      if (values.once === true) return;
      out.info('Press Ctrl-C to stop.');
      await new Promise<void>((done) => {
        process.once('SIGINT', done);
        process.once('SIGTERM', done);
      });
      out.info('stopping');
    } finally {
      await stack.close();
    }
  },
};

/**
 * One application per home: two templates would pile into one tenant_template, and their role
 * declarations would fight. The home remembers its application and refuses another one.
 */
async function claimHome(home: string, appName: string): Promise<void> {
  const file = join(home, 'app.json');
  let recorded: string | undefined;
  try {
    recorded = (JSON.parse(await readFile(file, 'utf8')) as { name?: string }).name;
  } catch {
    recorded = undefined;
  }
  if (recorded !== undefined && recorded !== appName) {
    throw new CognitionError(
      'ERR_CONFIG',
      `${home} holds the ${recorded} application; run ${appName} in its own home, e.g. COGNITION_HOME=.cognition-${appName} npm start -- --app ${appName}`,
    );
  }
  if (recorded === undefined) {
    await mkdir(home, { recursive: true });
    await writeFile(file, `${JSON.stringify({ name: appName })}\n`);
  }
}
