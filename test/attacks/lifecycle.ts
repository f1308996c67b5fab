import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import pg from 'pg';
import { ensurePoolLogin } from '../../src/local/pool-users.js';
import { AGENTS_QUERY, BOND, DIRECTOR, M, MI6_LOOT, REAL_NAMES, CIA_LOOT } from './agents-data.js';
import {
  failure,
  many,
  REFUSALS,
  type Attack,
  type Outcome,
  type Target,
  type Tokens,
  type Verdict,
} from './harness.js';

/**
 * Users and tenants whose access ended while their credentials still work: a suspended user's
 * ID and access tokens (valid for another hour), their open SQL session, their refresh token and
 * password; a removed user's token and saved database password; a suspended tenant; a lead
 * demoted while their token still says `admin`. Every suspension is made as an operator makes it
 * (SQL as cognition_owner, in another session), so no cache of the stack is told about it: the
 * database alone must cut the access on the very next request.
 */

const SUSPEND = `update cognition.users set status = 'suspended' where lower(email) = lower($1)`;
const REACTIVATE = `update cognition.users set status = 'active' where lower(email) = lower($1)`;
const ME_AND_AGENTS = '{ me { email role } agents { codename realName } }';

/** The user's tokens, used once successfully so that every cache on the way holds them. */
async function warm(t: Target, email: string): Promise<Tokens> {
  const tokens = await t.tokens(email, { fresh: true });
  for (const token of [tokens.id, tokens.access]) {
    const answer = await t.graphql('{ me { email } }', { authorization: token });
    const me =
      typeof answer.body === 'object' ? (answer.body.data?.['me'] as { email?: string } | null) : null;
    if (me?.email !== email) throw new Error(`warm-up as ${email} failed: ${JSON.stringify(answer.body)}`);
  }
  return tokens;
}

/** The refusal of the user pool (an SDK exception) as an outcome. */
async function idp(step: () => Promise<unknown>): Promise<Outcome> {
  try {
    const result = await step();
    return { kind: 'rows', rows: [{ result: JSON.stringify(result).slice(0, 200) }], rowCount: 1 };
  } catch (error) {
    return { kind: 'error', code: `idp:${(error as Error).name}`, message: (error as Error).message };
  }
}

/** Refused by the user pool's triggers or the database; a session cut by the server counts too. */
function refusedOrCut(outcome: Outcome): Verdict {
  const outcomes = outcome.kind === 'many' ? outcome.outcomes : [outcome];
  for (const o of outcomes) {
    if (o.kind === 'error') {
      const cut = /terminat|Connection ended|not queryable|closed/i.test(o.message);
      // The pool refuses as Cognito does: NotAuthorized, or the trigger's refusal passed through.
      const idpRefused =
        o.code === 'idp:NotAuthorizedException' ||
        (o.code === 'idp:UserLambdaValidationException' && /ERR_USER_INACTIVE/.test(o.message));
      if (REFUSALS.has(o.code) || idpRefused || cut) continue;
      return { denied: false, why: `inconclusive ${o.code}: ${o.message}` };
    }
    return { denied: false, why: `got ${JSON.stringify(o).slice(0, 300)}` };
  }
  return { denied: true, why: outcomes.map((o) => (o.kind === 'error' ? o.code : o.kind)).join(', ') };
}

let session: pg.Client | undefined;
let bondTokens: Tokens | undefined;

interface Removed {
  tokens: Tokens;
  secret: { host: string; port: number; dbname: string; username: string; password: string };
}

/**
 * A user invited and provisioned as a new agent would be, given a login and used once, then
 * removed by an operator: removal is final, so each removal attack makes its own user.
 */
async function removedUser(t: Target, email: string): Promise<Removed> {
  await t.stack.cognition.users.invite({ email, tenant: 'mi6', role: 'user' });
  const user = (await t.stack.cognition.users.provision(email)).user;
  const secret = await t.stack.cognition.users.credentials(user.id);
  await ensurePoolLogin(t.stack.userPool, email, t.password);
  const tokens = await warm(t, email);
  await t.operator(`update cognition.users set status = 'removed' where id = $1`, [user.id]);
  return { tokens, secret };
}

let removedToken: Removed | undefined;
let removedPassword: Removed | undefined;

export const lifecycleAttacks: Attack[] = [
  {
    name: "a suspended user's still-valid ID and access tokens, on the very next request",
    category: 'lifecycle',
    target: 'agents',
    async setup(t) {
      bondTokens = await warm(t, BOND);
      await t.operator(SUSPEND, [BOND]);
    },
    run: (t) =>
      many(
        () => t.graphql(ME_AND_AGENTS, { authorization: bondTokens?.id }),
        () => t.graphql(ME_AND_AGENTS, { authorization: bondTokens?.access }),
        () =>
          t.graphql('mutation ($to: ID!) { sendMessage(recipientId: $to, body: "still here") { id } }', {
            authorization: bondTokens?.id,
            variables: { to: '00000000-0000-4000-8000-000000000000' },
          }),
      ),
    async teardown(t) {
      await t.operator(REACTIVATE, [BOND]);
    },
  },
  {
    name: "a suspended user's open SQL session and a new login with their database password",
    category: 'lifecycle',
    target: 'agents',
    async setup(t) {
      session = await t.connect(BOND);
      await session.query('select 1');
      await t.operator(SUSPEND, [BOND]);
    },
    async run(t) {
      const open = session as pg.Client;
      return many(
        async () => {
          try {
            const r = await open.query('select codename from agents');
            return { kind: 'rows', rows: r.rows, rowCount: r.rowCount ?? 0 };
          } catch (error) {
            return failure(error);
          }
        },
        () => t.sql(BOND, 'select codename from agents'),
      );
    },
    judge: refusedOrCut,
    async teardown(t) {
      await session?.end().catch(() => {});
      session = undefined;
      await t.operator(REACTIVATE, [BOND]);
    },
  },
  {
    name: 'a suspended user logs in again with their password, and refreshes their tokens',
    category: 'lifecycle',
    target: 'agents',
    async setup(t) {
      bondTokens = await t.tokens(BOND, { fresh: true });
      await t.operator(SUSPEND, [BOND]);
    },
    run: (t) =>
      many(
        () =>
          idp(() =>
            t.cognito.send(
              new InitiateAuthCommand({
                ClientId: t.stack.userPool.clientId,
                AuthFlow: 'USER_PASSWORD_AUTH',
                AuthParameters: { USERNAME: BOND, PASSWORD: t.password },
              }),
            ),
          ),
        () =>
          idp(() =>
            t.cognito.send(
              new InitiateAuthCommand({
                ClientId: t.stack.userPool.clientId,
                AuthFlow: 'REFRESH_TOKEN_AUTH',
                AuthParameters: { REFRESH_TOKEN: bondTokens?.refresh as string },
              }),
            ),
          ),
      ),
    judge: refusedOrCut,
    async teardown(t) {
      await t.operator(REACTIVATE, [BOND]);
    },
  },
  {
    name: "a removed user's still-valid token",
    category: 'lifecycle',
    target: 'agents',
    secrets: () => REAL_NAMES,
    async setup(t) {
      removedToken = await removedUser(t, 'gone@mi6.test');
    },
    run: (t) =>
      many(
        () => t.graphql(ME_AND_AGENTS, { authorization: removedToken?.tokens.id }),
        () => t.graphql(ME_AND_AGENTS, { authorization: removedToken?.tokens.access }),
      ),
  },
  {
    name: "a removed user's saved database password",
    category: 'lifecycle',
    target: 'agents',
    async setup(t) {
      removedPassword = await removedUser(t, 'gone.too@mi6.test');
    },
    async run() {
      const s = (removedPassword as Removed).secret;
      const client = new pg.Client({
        host: s.host,
        port: s.port,
        database: s.dbname,
        user: s.username,
        password: s.password,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        const r = await client.query('select current_user');
        return { kind: 'rows', rows: r.rows, rowCount: r.rowCount ?? 0 };
      } catch (error) {
        return failure(error);
      } finally {
        await client.end().catch(() => {});
      }
    },
  },
  {
    name: "a suspended tenant's lead with a still-valid token",
    category: 'lifecycle',
    target: 'agents',
    secrets: () => CIA_LOOT,
    async setup(t) {
      await warm(t, DIRECTOR);
      await t.operator(`update cognition.tenants set status = 'suspended' where slug = 'cia'`);
    },
    run: (t) =>
      many(
        async () => t.graphql(ME_AND_AGENTS, { authorization: (await t.tokens(DIRECTOR)).id }),
        () => t.sql(DIRECTOR, 'select codename from agents'),
      ),
    async teardown(t) {
      await t.operator(`update cognition.tenants set status = 'active' where slug = 'cia'`);
    },
  },
  {
    name: "a demoted lead's stale token (cognito:groups still says admin): recruit an agent, read real names",
    category: 'lifecycle',
    target: 'agents',
    secrets: () => MI6_LOOT.filter((s) => REAL_NAMES.includes(s)),
    async setup(t) {
      await warm(t, M);
      await t.operator(`update cognition.users set role = 'user' where lower(email) = $1`, [M]);
    },
    async run(t) {
      const authorization = (await t.tokens(M)).id;
      const office = await t.admin.query<{ id: string }>(
        `select id::text from tenant_mi6.offices order by id limit 1`,
      );
      return many(
        () =>
          t.graphql(
            'mutation ($office: ID!) { createAgent(codename: "008", realName: "Bill Fairbanks", officeId: $office) { id } }',
            { authorization, variables: { office: office.rows[0]?.id } },
          ),
        () => t.graphql(AGENTS_QUERY, { authorization }),
      );
    },
    // The lead, now a plain user with no office, sees no agent at all.
    async teardown(t) {
      await t.operator(`update cognition.users set role = 'admin' where lower(email) = $1`, [M]);
    },
  },
];
