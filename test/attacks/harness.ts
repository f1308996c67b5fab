import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JWK } from 'jose';
import pg from 'pg';
import { isCognitionError, pgErrorOf } from '../../src/errors.js';
import { loadApp } from '../../src/local/app.js';
import { ensurePoolLogin } from '../../src/local/pool-users.js';
import { startLocalStack, type LocalStack } from '../../src/local/stack.js';
import type { User } from '../../src/users/users.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { RealtimeClient, type RealtimeMessage } from '../local/graphql/realtime-client.js';

/**
 * The attack suite's view of a running stack: the local stack over one example application
 * (embedded Postgres, local user pool, local GraphQL endpoint), seeded as `npm start` seeds it,
 * and the means an attacker has against it: real tokens from the user pool through the official
 * AWS SDK client, GraphQL over HTTP, and SQL over a real connection logged in as the attacker's
 * own database user. The superuser connection is the referee's: it takes the fingerprints and
 * does the set-up that an operator would do (suspend a user, …), never an attack.
 */

export type TargetName = 'agents' | 'patterns';

export const APP_DIRS: Record<TargetName, string> = {
  agents: fileURLToPath(new URL('../../examples/agents/', import.meta.url)),
  patterns: fileURLToPath(new URL('../../examples/patterns/', import.meta.url)),
};

export interface Tokens {
  id: string;
  access: string;
  refresh: string;
}

export interface GraphqlError {
  errorType?: string;
  message?: string;
  path?: unknown[];
  [key: string]: unknown;
}

/** What one attack got back. */
export type Outcome =
  | {
      kind: 'graphql';
      status: number;
      body: { data?: Record<string, unknown> | null; errors?: GraphqlError[] } | string;
    }
  | { kind: 'rows'; rows: Record<string, unknown>[]; rowCount: number; command?: string }
  /** A database or library error: `code` is the SQLSTATE, or the CognitionError code. */
  | { kind: 'error'; code: string; message: string }
  /** Several requests of one attack: denied only if each of them was. */
  | { kind: 'many'; outcomes: Outcome[] }
  /** What a subscriber received. */
  | { kind: 'events'; events: unknown[]; started?: string };

export interface Subscription {
  answer: RealtimeMessage;
  events(): RealtimeMessage[];
  close(): Promise<void>;
}

export interface GraphqlRequest {
  /** The `Authorization` header (a token), if any. */
  authorization?: string | undefined;
  variables?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** Replaces the JSON body entirely (for requests a normal client would not build). */
  rawBody?: string;
}

export interface Target {
  name: TargetName;
  cluster: TestCluster;
  home: string;
  stack: LocalStack;
  /** The seeded users' password on the local user pool. */
  password: string;
  /** The superuser connection: the referee's, for fingerprints and operator set-up only. */
  admin: pg.Client;
  graphqlUrl: string;
  /** The official AWS SDK client, pointed at the local user pool. */
  cognito: CognitoIdentityProviderClient;
  /** Real ID and access tokens from InitiateAuth through the AWS SDK client (cached per email). */
  tokens(email: string, options?: { fresh?: boolean }): Promise<Tokens>;
  /** The user's row as the system sees it. */
  user(email: string): Promise<User>;
  graphql(query: string, request?: GraphqlRequest): Promise<Outcome & { kind: 'graphql' }>;
  /**
   * A subscription over AppSync's real-time WebSocket protocol with the user's real token:
   * `answer` is start_ack or the refusal; `events()` what was delivered since.
   */
  subscribe(email: string, query: string, variables?: Record<string, unknown>): Promise<Subscription>;
  /** A new connection logged in as the user's own database role, with the user's own credentials. */
  connect(email: string): Promise<pg.Client>;
  /** One statement on a new connection as the user (closed afterwards). */
  sql(email: string, text: string, params?: unknown[]): Promise<Outcome>;
  /** One statement through the stack's executor (role switch), as a resolver's SQL runs. */
  runAs(email: string, text: string, params?: unknown[]): Promise<Outcome>;
  /**
   * An operator's change, as the CLI makes it: in one transaction as cognition_owner on the
   * superuser connection, out of band for the stack (no cache of the stack is told).
   */
  operator(text: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** The pool's private signing keys (see tokens.ts for why an attack may read them). */
  signingKeys(): Promise<{ id: JWK; access: JWK }>;
  fingerprint(): Promise<Fingerprint>;
  stop(): Promise<void>;
}

export async function startTarget(name: TargetName): Promise<Target> {
  const cluster = await startCluster();
  const home = await mkdtemp(join(tmpdir(), `pgc-attacks-${name}-`));
  await chmod(home, 0o711);
  let stack: LocalStack | undefined;
  try {
    const app = await loadApp(APP_DIRS[name]);
    stack = await startLocalStack({
      home,
      databaseUrl: cluster.url,
      port: 0,
      app,
    });
    const seeded = await app.seed?.(stack.cognition);
    if (typeof seeded?.password !== 'string') throw new Error(`the ${name} seed gave no password`);
    const t = target(name, cluster, home, stack, seeded.password);
    // Every seeded user logs in once before any attack: a first login binds the pool identity to
    // the user's row, which would otherwise show up as a change made during an attack.
    await Promise.all(seeded.users.map((u) => t.tokens(u.email)));
    return t;
  } catch (error) {
    await stack?.close().catch(() => {});
    await cluster.stop().catch(() => {});
    await rm(home, { recursive: true, force: true });
    throw error;
  }
}

function target(
  name: TargetName,
  cluster: TestCluster,
  home: string,
  stack: LocalStack,
  password: string,
): Target {
  const cognito = new CognitoIdentityProviderClient({
    endpoint: stack.userPool.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const cache = new Map<string, Tokens>();
  const graphqlUrl = `${stack.userPool.url}/graphql`;
  const clients = new Set<pg.Client>();

  const user = (email: string) => stack.cognition.users.require({ email });

  async function connect(email: string): Promise<pg.Client> {
    const { id } = await user(email);
    const secret = await stack.cognition.users.credentials(id);
    const client = new pg.Client({
      host: secret.host,
      port: secret.port,
      database: secret.dbname,
      user: secret.username,
      password: secret.password,
      application_name: 'attacker',
    });
    // A terminated session (suspension) emits 'error' on the client: that is an outcome, not a crash.
    client.on('error', () => {});
    await client.connect();
    clients.add(client);
    // As the credentials executor does: unqualified names resolve in the user's tenant schema.
    const schema = (await user(email)).tenantSchema;
    if (schema)
      await client.query(`select set_config('search_path', $1, false)`, [pg.escapeIdentifier(schema)]);
    return client;
  }

  return {
    name,
    cluster,
    home,
    stack,
    password,
    admin: cluster.admin,
    graphqlUrl,
    cognito,
    user,
    async tokens(email, options = {}) {
      const cached = cache.get(email);
      if (cached && !options.fresh) return cached;
      await ensurePoolLogin(stack.userPool, email, password);
      const { AuthenticationResult } = await cognito.send(
        new InitiateAuthCommand({
          ClientId: stack.userPool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: password },
        }),
      );
      const tokens = {
        id: AuthenticationResult?.IdToken as string,
        access: AuthenticationResult?.AccessToken as string,
        refresh: AuthenticationResult?.RefreshToken as string,
      };
      cache.set(email, tokens);
      return tokens;
    },
    async graphql(query, request = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...request.headers };
      if (request.authorization !== undefined) headers['authorization'] = request.authorization;
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers,
        body: request.rawBody ?? JSON.stringify({ query, variables: request.variables ?? {} }),
      });
      const text = await response.text();
      let body: Outcome & { kind: 'graphql' } extends { body: infer B } ? B : never;
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        body = text;
      }
      return { kind: 'graphql', status: response.status, body };
    },
    connect,
    async subscribe(email, query, variables = {}) {
      const authorization = (await this.tokens(email)).id;
      const header = Buffer.from(
        JSON.stringify({ host: new URL(stack.userPool.url).host, Authorization: authorization }),
      ).toString('base64');
      const url = `${stack.userPool.url.replace(/^http/, 'ws')}/graphql/realtime?header=${encodeURIComponent(header)}&payload=e30=`;
      const client = await RealtimeClient.open(url);
      const close = async () => {
        client.socket.terminate();
        await client.closed;
      };
      const ack = await client.init();
      if (ack.type !== 'connection_ack') return { answer: ack, events: () => [], close };
      const answer = await client.start('attack', query, variables);
      return { answer, events: () => client.all((m) => m.type === 'data'), close };
    },
    async sql(email, text, params = []) {
      let client: pg.Client | undefined;
      try {
        client = await connect(email);
        const result = await client.query(text, params);
        return { kind: 'rows', rows: result.rows, rowCount: result.rowCount ?? 0, command: result.command };
      } catch (error) {
        return failure(error);
      } finally {
        if (client) {
          clients.delete(client);
          await client.end().catch(() => {});
        }
      }
    },
    async runAs(email, text, params = []) {
      try {
        const result = await stack.cognition.runAs(await user(email), text, params);
        return { kind: 'rows', rows: result.rows, rowCount: result.rowCount ?? 0, command: result.command };
      } catch (error) {
        return failure(error);
      }
    },
    async operator(text, params = []) {
      await cluster.admin.query('begin');
      try {
        await cluster.admin.query('set local role cognition_owner');
        const result = await cluster.admin.query(text, params);
        await cluster.admin.query('commit');
        return result;
      } catch (error) {
        await cluster.admin.query('rollback');
        throw error;
      }
    },
    async signingKeys() {
      const file = JSON.parse(await readFile(join(home, 'user-pool', 'keys.json'), 'utf8')) as {
        id: JWK;
        access: JWK;
      };
      return { id: file.id, access: file.access };
    },
    fingerprint: () => fingerprint(cluster.admin),
    async stop() {
      cognito.destroy();
      for (const client of clients) await client.end().catch(() => {});
      await stack.close();
      await cluster.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** An error as an outcome: the CognitionError code, else the SQLSTATE, else the error's name. */
export function failure(error: unknown): Outcome & { kind: 'error' } {
  if (isCognitionError(error)) {
    return { kind: 'error', code: error.code, message: error.message };
  }
  const pgError = pgErrorOf(error);
  if (pgError?.code) return { kind: 'error', code: pgError.code, message: pgError.message };
  return {
    kind: 'error',
    code: (error as Error)?.name ?? 'Error',
    message: String((error as Error)?.message ?? error),
  };
}

/** A subscription's start as an outcome: refused cleanly (a denial), or acknowledged. */
export function subscriptionStart(answer: RealtimeMessage): Outcome {
  if (answer.type === 'start_ack') return { kind: 'rows', rows: [{ answer: 'start_ack' }], rowCount: 1 };
  const errors = (answer.payload as { errors?: { errorType?: string }[] } | undefined)?.errors ?? [];
  const clean = errors.length > 0 && errors.every((e) => CLEAN_ERROR_TYPES.has(e.errorType ?? ''));
  return {
    kind: 'error',
    code: clean ? SUBSCRIPTION_REFUSED : 'subscription error',
    message: JSON.stringify(answer),
  };
}

/** Whether the user pool holds a login for the address: an attack that created one got through. */
export async function noLogin(t: Target, email: string): Promise<Outcome> {
  try {
    const user = await t.cognito.send(
      new AdminGetUserCommand({ UserPoolId: t.stack.userPool.poolId, Username: email }),
    );
    return { kind: 'rows', rows: [{ login: user.Username, status: user.UserStatus }], rowCount: 1 };
  } catch (error) {
    if ((error as Error).name === 'UserNotFoundException')
      return { kind: 'error', code: NO_LOGIN, message: email };
    return failure(error);
  }
}

/** Runs each step in turn and collects the outcomes (one attack, several tries). */
export async function many(...steps: Array<() => Promise<Outcome>>): Promise<Outcome> {
  const outcomes: Outcome[] = [];
  for (const step of steps) outcomes.push(await step());
  return { kind: 'many', outcomes };
}

/**
 * An eavesdropping attempt over subscriptions: `spy` subscribes, and so does `control`, who may
 * receive the event; `between` runs once both are subscribed (a permission taken away, say); then
 * `trigger` publishes the event. The control receiving it proves the event was published, so the
 * spy had its chance. The outcome is what the spy received, or the refusal of its subscription.
 */
export async function overhear(
  t: Target,
  options: {
    spy: { email: string; query: string; variables: Record<string, unknown> };
    control: { email: string; query: string; variables: Record<string, unknown> };
    between?: () => Promise<void>;
    trigger: () => Promise<void>;
  },
): Promise<Outcome> {
  const spy = await t.subscribe(options.spy.email, options.spy.query, options.spy.variables);
  const control = await t.subscribe(options.control.email, options.control.query, options.control.variables);
  try {
    if (control.answer.type !== 'start_ack') {
      throw new Error(`the control subscription was refused: ${JSON.stringify(control.answer)}`);
    }
    await options.between?.();
    await options.trigger();
    for (let waited = 0; control.events().length === 0; waited += 20) {
      if (waited > 5000)
        throw new Error('the control subscriber received nothing: the attack proves nothing');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Events go out to every subscriber together; a little longer for the spy's.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Refused when subscribing: a denial if it is a clean authorization error.
    if (spy.answer.type !== 'start_ack') return subscriptionStart(spy.answer);
    // An event that carries only errors (Unauthorized) and no data is a refusal, not a delivery.
    const delivered = spy.events().filter((m) => {
      const data = (m.payload as { data?: Record<string, unknown> | null } | undefined)?.data;
      return data != null && Object.values(data).some((v) => v != null);
    });
    return { kind: 'events', events: delivered, started: spy.answer.type };
  } finally {
    await spy.close();
    await control.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints: "left no trace".

/** Every row of every table and the security-relevant catalog, each as sorted JSON lines. */
export type Fingerprint = Record<string, string[]>;

export interface RowChange {
  /** `schema.table`, or `catalog:<what>`. */
  key: string;
  change: 'added' | 'removed';
  row: string;
}

/**
 * What the attacker could change: the rows of every table of the cognition schema, the template
 * and every tenant schema; and the catalog that decides who may do what: roles and their
 * attributes (password hashes only as digests), memberships, per-role settings, schemas,
 * relations with their owners, privileges and RLS flags, policies, functions (owner, SECURITY
 * DEFINER, pinned settings, privileges, a digest of the body), triggers, large objects, default
 * privileges and the database's own privileges.
 *
 * Sequence positions are left out on purpose: a refused INSERT still draws its identity value
 * (sequences are not transactional, by Postgres's design), which is no data and no privilege.
 * So are temporary schemas: a session's temporary objects end with it.
 */
export async function fingerprint(admin: pg.Client): Promise<Fingerprint> {
  const { rows: tables } = await admin.query<{ name: string }>(
    `select format('%I.%I', n.nspname, c.relname) as name
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p', 'm') and (n.nspname = 'cognition' or n.nspname like 'tenant\\_%')
     order by 1`,
  );
  const parts = tables.map(
    ({ name }) =>
      `select ${pg.escapeLiteral(name)}, coalesce(array_agg(to_jsonb(x)::text order by to_jsonb(x)::text), '{}') from ${name} x`,
  );
  const catalog: Record<string, string> = {
    roles: `select to_jsonb(r) - 'oid' || jsonb_build_object('password', md5(coalesce(a.rolpassword, '')))
            from pg_roles r join pg_authid a on a.oid = r.oid where r.rolname !~ '^pg_'`,
    // to_jsonb keeps whatever options this version has (inherit and set exist from 16 on).
    memberships: `select to_jsonb(m) - 'oid' - 'roleid' - 'member' - 'grantor'
              || jsonb_build_object('role', m.roleid::regrole::text, 'member', m.member::regrole::text,
                                    'grantor', m.grantor::regrole::text)
            from pg_auth_members m`,
    role_settings: `select jsonb_build_object('role', s.setrole::regrole::text, 'db', s.setdatabase, 'config', s.setconfig)
            from pg_db_role_setting s`,
    schemas: `select jsonb_build_object('name', n.nspname, 'owner', n.nspowner::regrole::text, 'acl', n.nspacl)
            from pg_namespace n where n.nspname !~ '^pg_(temp|toast_temp)_'`,
    relations: `select jsonb_build_object('name', format('%I.%I', n.nspname, c.relname), 'kind', c.relkind,
              'owner', c.relowner::regrole::text, 'acl', c.relacl, 'rls', c.relrowsecurity, 'force', c.relforcerowsecurity,
              'columns', (select jsonb_agg(jsonb_build_array(a.attname, a.atttypid::regtype::text, a.attacl) order by a.attnum)
                          from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped))
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp|toast_temp)'`,
    policies: `select to_jsonb(p) from pg_policies p`,
    functions: `select jsonb_build_object('name', p.oid::regprocedure::text, 'owner', p.proowner::regrole::text,
              'definer', p.prosecdef, 'config', p.proconfig, 'acl', p.proacl, 'body', md5(coalesce(p.prosrc, '')))
            from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname not in ('pg_catalog', 'information_schema') or p.proacl is not null`,
    triggers: `select jsonb_build_object('table', t.tgrelid::regclass::text, 'name', t.tgname, 'enabled', t.tgenabled,
              'function', t.tgfoid::regprocedure::text)
            from pg_trigger t where not t.tgisinternal`,
    large_objects: `select jsonb_build_object('oid', l.oid, 'owner', l.lomowner::regrole::text, 'acl', l.lomacl)
            from pg_largeobject_metadata l`,
    default_privileges: `select jsonb_build_object('role', d.defaclrole::regrole::text, 'schema', d.defaclnamespace, 'acl', d.defaclacl)
            from pg_default_acl d`,
    database: `select jsonb_build_object('name', d.datname, 'acl', d.datacl, 'owner', d.datdba::regrole::text)
            from pg_database d where d.datname = current_database()`,
    extensions: `select jsonb_build_object('name', e.extname, 'owner', e.extowner::regrole::text) from pg_extension e`,
  };
  for (const [key, query] of Object.entries(catalog)) {
    parts.push(
      `select ${pg.escapeLiteral(`catalog:${key}`)}, coalesce(array_agg(x::text order by x::text), '{}') from (${query}) q(x)`,
    );
  }
  const { rows } = await admin.query<{ key: string; rows: string[] }>(
    `select * from (${parts.join('\nunion all\n')}) f(key, rows)`,
  );
  const out: Fingerprint = {};
  for (const row of rows) out[row.key] = row.rows;
  return out;
}

/** The rows that differ between two fingerprints. */
export function diff(before: Fingerprint, after: Fingerprint): RowChange[] {
  const changes: RowChange[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = new Set(before[key] ?? []);
    const b = new Set(after[key] ?? []);
    for (const row of b) if (!a.has(row)) changes.push({ key, change: 'added', row });
    for (const row of a) if (!b.has(row)) changes.push({ key, change: 'removed', row });
  }
  return changes;
}

/** A short digest of a fingerprint, for the log. */
export function digest(print: Fingerprint): string {
  return createHash('sha256').update(JSON.stringify(print)).digest('hex').slice(0, 12);
}

// ---------------------------------------------------------------------------------------------
// Attacks and their verdicts.

export type Category =
  'tokens' | 'tenant smuggling' | 'injection' | 'escalation' | 'use cases' | 'lifecycle' | 'sql';

export interface Attack {
  name: string;
  category: Category;
  target: TargetName;
  /** An operator's doing before the attack, outside the fingerprint (suspend a user, …). */
  setup?(t: Target): Promise<void>;
  /** Performs the attack and returns what the attacker got. */
  run(t: Target): Promise<Outcome>;
  /** Undoes the set-up, after the second fingerprint. */
  teardown?(t: Target): Promise<void>;
  /** Text that must not appear anywhere in what the attacker got back. */
  secrets?: (t: Target) => Promise<string[]> | string[];
  /**
   * The attacker may legitimately get data back (their own rows): the attack is then judged by
   * `secrets` and by the errors being clean refusals, not by the data being empty.
   */
  mayReturnData?: boolean;
  /** Replaces the generic judgement of the outcome. */
  judge?(outcome: Outcome, t: Target): Verdict | Promise<Verdict>;
  /**
   * Changes the attack may leave because they are the legitimate effect of a request (a
   * payload stored verbatim as data); every other change is a trace.
   */
  expectedChange?(change: RowChange): boolean;
  /** Removes the expected changes again, after the check (as the referee). */
  cleanup?(t: Target): Promise<void>;
  /**
   * Set while the attack is known to succeed (a reported, open issue): its test then asserts
   * that it still succeeds, and turns red once the issue is fixed, so that the mark is removed.
   */
  knownIssue?: string;
}

export interface Verdict {
  denied: boolean;
  /** What the attacker got, in a few words. */
  why: string;
}

/**
 * Errors that are a refusal: a privilege or RLS denial, an inactive or unknown user, a login
 * refused, a session closed by suspension, and the checks that triggers and constraints
 * enforce for everyone (invalid transitions, membership checks). Anything else (a syntax
 * error, an unknown table or function) means the attack itself is broken: it proves nothing,
 * so it fails the test rather than counting as denied.
 */
/** A subscription refused with a clean authorization error (see eavesdrop in tenant-smuggling.ts). */
export const SUBSCRIPTION_REFUSED = 'SUBSCRIPTION_REFUSED';

/** No login exists on the user pool for an address an attack tried to create (see noLogin). */
export const NO_LOGIN = 'NO_LOGIN';

export const REFUSALS: ReadonlySet<string> = new Set([
  SUBSCRIPTION_REFUSED,
  NO_LOGIN,
  '42501', // insufficient_privilege, RLS violations
  'ERR_PERMISSION_DENIED',
  'ERR_STATEMENT_REFUSED', // role switch: a statement that could leave the caller's role
  'ERR_USER_INACTIVE',
  'ERR_USER_REMOVED',
  'ERR_USER_NOT_FOUND',
  'ERR_SECRET_NOT_FOUND',
  'ERR_INVALID_TRANSITION',
  'ERR_INVALID_ROLE',
  'ERR_INVALID_ARGUMENT',
  'ERR_CONSTRAINT',
  '23514', // check_violation, and the lifecycle triggers' checks
  '23503', // foreign_key_violation, and the "member of this tenant" triggers
  '28000', // invalid_authorization_specification: login refused (NOLOGIN)
  '28P01', // invalid_password
  '57P01', // admin_shutdown: the session was terminated (suspension)
  '25P02', // in_failed_sql_transaction, after one of the above
  '0LP01', // invalid_grant_operation
]);

/** Resolver errors that are clean refusals: AppSync's and the data source's. */
export const CLEAN_ERROR_TYPES: ReadonlySet<string> = new Set([
  'Unauthorized',
  'UnauthorizedException',
  'BadRequest',
  'ConstraintViolation',
]);

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (Array.isArray(value) && value.length === 0);
}

/** The generic judgement: refused, or got nothing (and in every case no secret). */
export async function judge(attack: Attack, outcome: Outcome, t: Target): Promise<Verdict> {
  // A secret in what the attacker got is the first thing to tell, whatever else happened.
  const secrets = attack.secrets ? await attack.secrets(t) : [];
  const text = JSON.stringify(outcome);
  const leaked = secrets.filter((s) => s !== '' && text.includes(s));
  if (leaked.length > 0) {
    return { denied: false, why: `leaked ${leaked.map((s) => JSON.stringify(s)).join(', ')}` };
  }
  return attack.judge ? attack.judge(outcome, t) : judgeOutcome(outcome, attack.mayReturnData ?? false);
}

export function judgeOutcome(outcome: Outcome, mayReturnData: boolean): Verdict {
  switch (outcome.kind) {
    case 'error':
      return REFUSALS.has(outcome.code)
        ? { denied: true, why: `${outcome.code}: ${outcome.message}` }
        : { denied: false, why: `inconclusive error ${outcome.code}: ${outcome.message}` };
    case 'rows':
      return outcome.rowCount === 0 || mayReturnData
        ? { denied: true, why: `${outcome.rowCount} rows` }
        : {
            denied: false,
            why: `got ${outcome.rowCount} rows: ${JSON.stringify(outcome.rows).slice(0, 300)}`,
          };
    case 'events':
      return outcome.events.length === 0 || mayReturnData
        ? {
            denied: true,
            why: `${outcome.events.length} events${outcome.started ? ` (subscription: ${outcome.started})` : ''}`,
          }
        : { denied: false, why: `received ${JSON.stringify(outcome.events).slice(0, 300)}` };
    case 'many': {
      const verdicts = outcome.outcomes.map((o) => judgeOutcome(o, mayReturnData));
      const failed = verdicts.filter((v) => !v.denied);
      return failed.length === 0
        ? { denied: true, why: verdicts.map((v) => v.why).join('; ') }
        : { denied: false, why: failed.map((v) => v.why).join('; ') };
    }
    case 'graphql': {
      if (typeof outcome.body === 'string') {
        return outcome.status >= 400
          ? { denied: true, why: `HTTP ${outcome.status}` }
          : { denied: false, why: `HTTP ${outcome.status}: ${outcome.body.slice(0, 200)}` };
      }
      const errors = outcome.body.errors ?? [];
      // Request errors (syntax, validation, variables) carry no errorType; resolver errors do.
      const unclean = errors.filter((e) => e.errorType != null && !CLEAN_ERROR_TYPES.has(e.errorType));
      if (unclean.length > 0) {
        return { denied: false, why: `not a clean refusal: ${JSON.stringify(unclean).slice(0, 300)}` };
      }
      const summary = `HTTP ${outcome.status}${errors.length ? ` ${errors.map((e) => e.errorType ?? e.message).join(', ')}` : ''}`;
      if (outcome.status >= 400) return { denied: true, why: summary };
      const data = outcome.body.data ?? {};
      const got = Object.entries(data).filter(([, value]) => !isEmpty(value));
      if (got.length === 0 || mayReturnData) return { denied: true, why: summary };
      return { denied: false, why: `got data: ${JSON.stringify(Object.fromEntries(got)).slice(0, 300)}` };
    }
  }
}
