import type { AppSyncIdentity, AppSyncResolverEvent } from 'aws-lambda';

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
}

/** Resolvers by `Type.field`, e.g. `{ 'Query.agents': {...}, 'Agent.office': {...} }`. */
export type Resolvers = Readonly<Record<string, ResolverDefinition>>;
