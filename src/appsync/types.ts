import type { AppSyncIdentity, AppSyncResolverEvent } from 'aws-lambda';
import type { Cognition, ExecutionMode } from '../cognition.js';
import type { IdentityProviderAdmin } from '../identity/identity-provider-admin.js';
import type { SecretStore } from '../secrets/secret-store.js';

export type { IdentityProviderAdmin };

/** One direct-Lambda resolver event as AppSync sends it (Invoke), or a list of them (BatchInvoke). */
export type ResolverEvent = AppSyncResolverEvent<Record<string, unknown>, Record<string, unknown> | null>;

/** One item of a BatchInvoke response, as AppSync expects it. */
export interface BatchItemResult {
  data?: unknown;
  errorMessage?: string;
  errorType?: string;
}

/** The Lambda handler of the data source: a value for Invoke, aligned items for BatchInvoke. */
export type DataSourceHandler = (event: ResolverEvent | ResolverEvent[]) => Promise<unknown>;

/** The database user a request runs as, resolved from the AppSync identity. */
export interface CallerUser {
  userId: string | null;
  dbUsername: string;
  /** The tenant schema, where unqualified names resolve. */
  schema: string | null;
  tenantId: string | null;
  role: string;
}

/** What a resolver's parameter function sees. */
export interface ResolverInput {
  arguments: Record<string, unknown>;
  source: Record<string, unknown> | null;
  identity: AppSyncIdentity;
  caller: CallerUser;
}

/**
 * A resolver declared in code, for one `Type.field`: one SQL statement (server-side
 * configuration, never client input) and how its bound parameters come from the request.
 * Authorization is not here: the statement runs as the caller's database role.
 */
export interface ResolverDefinition {
  sql: string;
  /**
   * The bound parameters, in order: a function of the request, or paths such as
   * `arguments.id`, `source.agentId`, `identity.sub`, `caller.userId`.
   */
  params?: ((input: ResolverInput) => unknown[]) | readonly string[];
  /** `one`: the field is an object type, resolved to the first row or null. Default `many`. */
  returns?: 'one' | 'many' | 'scalar';
  /**
   * Runs after the statement succeeded, with its shaped value; what it returns is the field's
   * value. For work outside the database that follows from the statement (e.g. creating the
   * identity-provider login of a user the statement invited). A failure fails the field.
   */
  after?: (value: unknown, context: AfterContext) => Promise<unknown>;
}

/** What an `after` hook may use: the request, the identity provider, and the caller's executor. */
export interface AfterContext extends ResolverInput {
  identityProvider: IdentityProviderAdmin | undefined;
  /** Runs one more statement as the same caller (e.g. to undo the first when the hook fails). */
  run(
    sql: string,
    params?: readonly unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

/** Resolvers by `Type.field`, e.g. `{ 'Query.agents': {...}, 'Agent.office': {...} }`. */
export type Resolvers = Readonly<Record<string, ResolverDefinition>>;

/**
 * How AppSync identities map to database users. Every override names a user by email or id;
 * an identity that maps to no active user is refused before any query runs.
 */
export interface IdentityOptions {
  /**
   * IAM callers by exact ARN. A key that is an IAM role ARN
   * (`arn:aws:iam::<account>:role[/path]/<RoleName>`) also matches every session of that role
   * (`arn:aws:sts::<account>:assumed-role/<RoleName>/<session>`); any other key (an IAM user's
   * ARN, one assumed-role session) matches only that exact `userArn`.
   */
  iamRoleArns?: Readonly<Record<string, string>>;
  /**
   * IAM callers by role name: `arn:aws:sts::<any account>:assumed-role/<RoleName>/<any session>`
   * matches the key `<RoleName>` (case-sensitive). Prefer `iamRoleArns`, which pins the account.
   */
  iamRoleNames?: Readonly<Record<string, string>>;
  /**
   * Issuers whose OIDC identities are accepted (compared exactly). A user is bound to an OIDC
   * identity by provisioning it with the subject `oidcSubject(issuer, sub)`, `<issuer>#<sub>`,
   * so that equal `sub`s of different issuers can never meet.
   */
  oidcIssuers?: readonly string[];
  /**
   * The key of `identity.resolverContext` (from a Lambda authorizer) that names the user, by
   * user id or identity-provider subject (default `userId`).
   */
  lambdaAuthorizerKey?: string;
  /**
   * The database role API-key callers run as (the application creates it, grants it what
   * anonymous callers may do, and grants it to `cognition_authenticator`). Without it, API-key
   * calls are refused. Anonymous calls always use the role-switch executor.
   */
  anonymousRole?: string;
  /** The search_path of anonymous calls (default none: names must be qualified). */
  anonymousSchema?: string;
}

/** Where the data source writes what it does not tell the client (default `console.error`). */
export type DataSourceLogger = (message: string, error: unknown) => void;

export interface DataSourceCommonOptions {
  resolvers: Resolvers;
  /** Execution mode of the core's executor (default role-switch). */
  mode?: ExecutionMode;
  identity?: IdentityOptions;
  /** Lets resolvers such as `addUser` create identity-provider logins (see `cognitoAdmin`). */
  identityProvider?: IdentityProviderAdmin;
  /**
   * Accept events that carry `payload: { sql, params, returns? }` (from a VTL request template;
   * the template is server-side configuration). Default false: such events are refused.
   * The template must put every client value into `params`, never into `sql`.
   */
  allowTemplatePayload?: boolean;
  /**
   * How long a resolved identity is reused, in milliseconds (default 5000; 0 turns the cache
   * off). Only lookups are cached: a suspended user is still refused by the database on the
   * next query, because suspension revokes the role.
   */
  identityCacheMs?: number;
  /** Most identities kept in the cache (default 1000). */
  identityCacheSize?: number;
  log?: DataSourceLogger;
}

export type DataSourceOptions = DataSourceCommonOptions &
  (
    | {
        /** An existing Cognition (its pools are reused); close() leaves it open. */
        cognition: Cognition;
      }
    | {
        databaseUrl: string;
        secrets: SecretStore;
        secretPrefix?: string;
        /** Admin pool size (default 2) and role-switch pool size (default 10). */
        adminPoolSize?: number;
        executorPoolSize?: number;
      }
  );

export interface DataSource {
  /** The Lambda handler: Invoke (one event) and BatchInvoke (an array of events). */
  handler: DataSourceHandler;
  /** The database user an AppSync identity runs as; throws an `Unauthorized` AppSyncError. */
  resolveCaller(identity: unknown): Promise<CallerUser>;
  /**
   * Starts opening the executor's first connection; the next request looks its caller up
   * meanwhile and waits for it only then (a Lambda cold start calls it before its first
   * request). Best effort: a failure is left to the request to meet and report.
   */
  prepare(): Promise<void>;
  /** Closes the Cognition if the factory created it. */
  close(): Promise<void>;
}
