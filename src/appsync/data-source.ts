import type { AppSyncIdentity } from 'aws-lambda';
import { cognitionFrom, type ExecutionMode } from '../cognition.js';
import type { ExecResult, RunAs } from '../db/executor.js';
import { CognitionError } from '../errors.js';
import { AppSyncError, badRequest, consoleLog, toAppSyncError, unauthorized } from './errors.js';
import {
  callerOf,
  claimsOf,
  identityConfig,
  IdentityCache,
  readIdentity,
  type IdentityClaim,
  type IdentityConfig,
} from './identity.js';
import { toJsonRow, toJsonValue } from './json.js';
import type {
  BatchItemResult,
  CallerUser,
  DataSource,
  DataSourceOptions,
  ResolverDefinition,
  ResolverEvent,
  ResolverInput,
  Resolvers,
} from './types.js';

type Returns = NonNullable<ResolverDefinition['returns']>;

/** A resolver ready to run: its statement, how to bind its parameters, and its result shape. */
interface Plan {
  field: string;
  sql: string;
  params: (input: ResolverInput) => unknown[];
  returns: Returns;
  after?: ResolverDefinition['after'];
}

const ROOTS = ['arguments', 'source', 'identity', 'caller'] as const;
const RETURNS: readonly Returns[] = ['one', 'many', 'scalar'];

/**
 * The AppSync Lambda data source. Each request resolves the AppSync identity to a database user
 * (refused before any query if there is none, or it is not active), then runs the resolver's one
 * statement as that user with the core's executor, and shapes the rows as JSON. Invoke returns
 * the value or throws an error whose `name` is the errorType; BatchInvoke returns one
 * `{ data }` or `{ data: null, errorMessage, errorType }` per event, in order.
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  const { cognition, owned } = cognitionFrom(options, { adminPoolSize: 2, executorPoolSize: 10 });
  const mode: ExecutionMode = options.mode ?? 'role-switch';
  if (mode !== 'role-switch' && mode !== 'credentials') {
    throw new CognitionError('ERR_CONFIG', `unknown execution mode ${String(mode)}`);
  }
  const plans = planResolvers(options.resolvers);
  const identities: IdentityConfig = identityConfig(options.identity);
  const allowTemplatePayload = options.allowTemplatePayload === true;
  const log = options.log ?? consoleLog;
  const cache = new IdentityCache(options.identityCacheMs ?? 5000, options.identityCacheSize ?? 1000);
  // The executor's first connection while prepare() opens it; requests look their caller up
  // meanwhile, and wait for it after.
  let warming: Promise<void> | undefined;

  async function lookUp(claim: IdentityClaim): Promise<CallerUser> {
    if (claim.kind === 'api-key') {
      if (!identities.anonymousRole) throw unauthorized();
      return {
        userId: null,
        dbUsername: identities.anonymousRole,
        schema: identities.anonymousSchema,
        tenantId: null,
        role: 'anonymous',
      };
    }
    for (const ref of claim.refs) {
      const user = await cognition.users.find(ref);
      if (!user) continue;
      if (user.status !== 'active' || !user.dbUsername) {
        throw unauthorized('ERR_USER_INACTIVE: this user is not active');
      }
      return callerOf(user);
    }
    throw unauthorized();
  }

  async function resolve(identity: unknown): Promise<{ claim: IdentityClaim; caller: CallerUser }> {
    const claim = readIdentity(identity, identities);
    const caller = await cache.get(claim.cacheKey, () => lookUp(claim));
    return { claim, caller };
  }

  function planFor(event: Record<string, unknown>): Plan {
    if ('payload' in event) {
      if (!allowTemplatePayload) {
        throw badRequest('ERR_INVALID_EVENT: this data source does not accept template payloads');
      }
      return templatePlan(event['payload']);
    }
    const info = event['info'];
    const type = isRecord(info) ? info['parentTypeName'] : undefined;
    const name = isRecord(info) ? info['fieldName'] : undefined;
    if (typeof type !== 'string' || typeof name !== 'string') {
      throw badRequest('ERR_INVALID_EVENT: the event names no field (info.parentTypeName, info.fieldName)');
    }
    const field = `${type}.${name}`;
    const plan = plans.get(field);
    if (!plan) {
      throw new AppSyncError('ResolverNotFound', `ERR_RESOLVER_NOT_FOUND: no resolver for ${field}`);
    }
    return plan;
  }

  async function one(event: unknown): Promise<unknown> {
    let where = 'request';
    try {
      if (!isRecord(event)) throw badRequest('ERR_INVALID_EVENT: the event is not an object');
      const plan = planFor(event);
      where = plan.field;
      const { claim, caller } = warming
        ? (await Promise.all([resolve(event['identity']), warming]))[0]
        : await resolve(event['identity']);
      const source = event['source'];
      const input: ResolverInput = {
        arguments: isRecord(event['arguments']) ? event['arguments'] : {},
        source: isRecord(source) ? source : null,
        identity: (event['identity'] ?? null) as AppSyncIdentity,
        caller,
      };
      const params = plan.params(input);
      const as: RunAs = { dbUsername: caller.dbUsername, schema: caller.schema };
      const claims = claimsOf(event['identity'], claim.kind);
      if (claims) as.claims = claims;
      // The anonymous role has no credentials of its own: it is always a role switch.
      const executor = await cognition.executor(claim.kind === 'api-key' ? 'role-switch' : mode);
      let result: ExecResult;
      try {
        result = await executor.run(as, plan.sql, params);
      } catch (error) {
        const mapped = toAppSyncError(error, where, log);
        // The database refused this user: look them up afresh next time.
        if (mapped.errorType === 'Unauthorized') cache.delete(claim.cacheKey);
        throw mapped;
      }
      const value = shape(result, plan.returns);
      if (!plan.after) return value;
      return await plan.after(value, {
        ...input,
        identityProvider: options.identityProvider,
        run: (sql, values = []) => executor.run(as, sql, values),
      });
    } catch (error) {
      throw toAppSyncError(error, where, log);
    }
  }

  const handler = async (event: ResolverEvent | ResolverEvent[]): Promise<unknown> => {
    if (!Array.isArray(event)) return one(event);
    return Promise.all(
      event.map(async (item): Promise<BatchItemResult> => {
        try {
          return { data: await one(item) };
        } catch (error) {
          const e = toAppSyncError(error, 'batch item', log);
          return { data: null, errorMessage: e.message, errorType: e.errorType };
        }
      }),
    );
  };

  return {
    handler,
    async resolveCaller(identity: unknown): Promise<CallerUser> {
      try {
        return (await resolve(identity)).caller;
      } catch (error) {
        throw toAppSyncError(error, 'identity', log);
      }
    },
    prepare(): Promise<void> {
      warming ??= cognition
        .prepare(mode)
        .catch(() => {})
        .finally(() => {
          warming = undefined;
        });
      return warming;
    },
    async close(): Promise<void> {
      cache.clear();
      if (owned) await cognition.close();
    },
  };
}

function shape(result: ExecResult, returns: Returns): unknown {
  switch (returns) {
    case 'many':
      return result.rows.map((row) => toJsonRow(row, result.fields));
    case 'one':
      return result.rows[0] ? toJsonRow(result.rows[0], result.fields) : null;
    case 'scalar': {
      const field = result.fields[0];
      const row = result.rows[0];
      return field && row ? toJsonValue(row[field.name], field.dataTypeID) : null;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks every resolver once, at start, so that a typo fails the deployment, not a request. */
function planResolvers(resolvers: Resolvers): Map<string, Plan> {
  if (!isRecord(resolvers)) throw new CognitionError('ERR_CONFIG', 'resolvers must be an object');
  const plans = new Map<string, Plan>();
  for (const [field, definition] of Object.entries(resolvers)) {
    if (!/^[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*$/.test(field)) {
      throw new CognitionError('ERR_CONFIG', `resolver "${field}": the key must be Type.field`);
    }
    plans.set(field, plan(field, definition));
  }
  return plans;
}

function plan(field: string, definition: ResolverDefinition): Plan {
  const fail = (why: string): never => {
    throw new CognitionError('ERR_CONFIG', `resolver ${field}: ${why}`);
  };
  if (!isRecord(definition)) return fail('not an object');
  if (typeof definition.sql !== 'string' || !definition.sql.trim()) return fail('sql must be a statement');
  const returns = definition.returns ?? 'many';
  if (!RETURNS.includes(returns)) return fail('returns must be one, many or scalar');
  if (definition.after !== undefined && typeof definition.after !== 'function') {
    return fail('after must be a function');
  }
  return {
    field,
    sql: definition.sql,
    params: binder(definition.params, fail),
    returns,
    ...(definition.after && { after: definition.after }),
  };
}

function binder(
  params: ResolverDefinition['params'],
  fail: (why: string) => never,
): (input: ResolverInput) => unknown[] {
  if (params === undefined) return () => [];
  if (typeof params === 'function') {
    return (input) => {
      const values = params(input);
      if (!Array.isArray(values))
        throw new CognitionError('ERR_CONFIG', 'a params function must return an array');
      return values;
    };
  }
  if (!Array.isArray(params)) return fail('params must be a function or a list of paths');
  const paths = params.map((path) => {
    const parts = typeof path === 'string' ? path.split('.') : [];
    const root = parts[0];
    if (!ROOTS.includes(root as (typeof ROOTS)[number]) || parts.some((p) => !p)) {
      return fail(`param "${String(path)}" must be a path under ${ROOTS.join(', ')}`);
    }
    return parts;
  });
  return (input) => paths.map((parts) => valueAt(input, parts));
}

function valueAt(input: ResolverInput, parts: string[]): unknown {
  let value: unknown = input;
  for (const part of parts) {
    if (!isRecord(value) || !Object.hasOwn(value, part)) return null;
    value = value[part];
  }
  return value === undefined ? null : value;
}

/** `payload: { sql, params?, returns? }` from a request mapping template (server-side configuration). */
function templatePlan(payload: unknown): Plan {
  const invalid = (): never => {
    throw badRequest('ERR_INVALID_EVENT: the template payload must be { sql, params }');
  };
  if (!isRecord(payload)) return invalid();
  const { sql, params, returns } = payload;
  if (typeof sql !== 'string' || !sql.trim()) return invalid();
  if (params !== undefined && params !== null && !Array.isArray(params)) return invalid();
  if (returns !== undefined && !RETURNS.includes(returns as Returns)) return invalid();
  const values = (params ?? []) as unknown[];
  return { field: 'template payload', sql, params: () => values, returns: (returns as Returns) ?? 'many' };
}
