import type DataLoader from 'dataloader';
import {
  defaultFieldResolver,
  isObjectType,
  type FieldNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import type { DataSourceHandler, ResolverEvent } from '../../appsync/types.js';
import { CognitionError } from '../../errors.js';
import type { Caller } from './auth.js';
import { createBatchLoader, invoke } from './batching.js';
import { fieldAuth, isAllowed, objectFields, type AuthMode, type FieldAuth } from './directives.js';
import { AppSyncError, notAuthorizedToAccess } from './errors.js';
import { resolverEvent, selectionSetInfo, type RequestFacts, type SelectionSetInfo } from './events.js';

/**
 * Every field of the schema gets a resolver that first checks the caller against the field's
 * auth directives, then resolves: fields named in `resolvers` through the data source (Invoke at
 * the root, BatchInvoke below it), the others by reading the parent's property.
 */

/** The per-request state resolvers share (the graphql-js context value). */
export interface ExecutionContext {
  readonly caller: Caller;
  readonly facts: RequestFacts;
  /** One BatchInvoke loader per `Type.field`, for this request only. */
  readonly loaders: Map<string, DataLoader<ResolverEvent, unknown>>;
  /** Selection set infos by field node and parent type: the same for every item of a list. */
  readonly selections: Map<FieldNode, Map<string, SelectionSetInfo>>;
  /** What triggering mutations returned, when the request may publish to subscriptions. */
  readonly captures: Capture[] | undefined;
  /** Data-source resolutions so far in this request (bounded: see MAX_RESOLUTIONS). */
  resolutions: number;
  /**
   * The outcome of a data-source field already invoked for this request (direct execution, when
   * completing its value needs graphql-js after all): that field resolves to it, once.
   */
  prefetched?: Prefetched | undefined;
}

/** What the data source gave for one field node: its (JSON-copied) value, or the error it raised. */
export type Prefetched =
  | { readonly node: FieldNode; readonly failed: false; readonly value: unknown }
  | { readonly node: FieldNode; readonly failed: true; readonly error: unknown };

/** What installResolvers put on a field, for planners that resolve the same way without graphql-js. */
export interface InstalledField {
  /** `Type.field` */
  readonly key: string;
  readonly auth: FieldAuth;
  /** Resolved through the data source (else the parent's property, by graphql-js's default resolver). */
  readonly dataSource: boolean;
  /** The resolver installed: a field whose `resolve` is another one was changed since. */
  readonly resolve: GraphQLFieldResolver<unknown, unknown>;
}

const installed = new WeakMap<GraphQLField<unknown, unknown>, InstalledField>();

/** How installResolvers set this field up, if it did and nothing replaced its resolver since. */
export function installedField(field: GraphQLField<unknown, unknown>): InstalledField | undefined {
  const record = installed.get(field);
  return record !== undefined && field.resolve === record.resolve ? record : undefined;
}

/**
 * At most this many data-source resolutions per request (AppSync allows 10,000): a small query
 * with thousands of aliased fields would otherwise run thousands of statements.
 */
export const MAX_RESOLUTIONS = 2000;

/** A root mutation field's result, recorded for publishing to its subscriptions. */
export interface Capture {
  responseKey: string;
  field: string;
  value: unknown;
}

export function newExecutionContext(
  caller: Caller,
  facts: RequestFacts,
  captures?: Capture[],
): ExecutionContext {
  return { caller, facts, loaders: new Map(), selections: new Map(), captures, resolutions: 0 };
}

/** `Type.field` names from a list, a set, or the keys of a Resolvers object; each must exist in the schema. */
export function resolverNames(
  schema: GraphQLSchema,
  resolvers: Iterable<string> | Record<string, unknown>,
): Set<string> {
  if (resolvers === null || typeof resolvers !== 'object') {
    throw new CognitionError(
      'ERR_CONFIG',
      'GraphQL endpoint: resolvers must be a list of Type.field names or a Resolvers object',
      { safe: false },
    );
  }
  const names = Symbol.iterator in resolvers ? [...(resolvers as Iterable<string>)] : Object.keys(resolvers);
  const unknown: string[] = [];
  for (const name of names) {
    const match =
      typeof name === 'string' ? /^([_A-Za-z][_0-9A-Za-z]*)\.([_A-Za-z][_0-9A-Za-z]*)$/.exec(name) : null;
    const type = match ? schema.getType(match[1]!) : undefined;
    if (!match || !isObjectType(type) || type.getFields()[match[2]!] === undefined)
      unknown.push(String(name));
  }
  if (unknown.length > 0) {
    throw new CognitionError(
      'ERR_CONFIG',
      `GraphQL endpoint: resolvers for fields the schema does not have: ${unknown.join(', ')} (expected Type.field of an object type)`,
      { safe: false, details: { resolvers: unknown } },
    );
  }
  return new Set(names);
}

export interface ResolutionOptions {
  resolvers: ReadonlySet<string>;
  dataSource: DataSourceHandler;
  defaultMode: AuthMode;
  /** 0: every field is an Invoke; otherwise nested fields are BatchInvokes of at most this many events. */
  maxBatchSize: number;
}

function dataSourceResolver(
  key: string,
  options: ResolutionOptions,
): GraphQLFieldResolver<unknown, ExecutionContext, Record<string, unknown>> {
  const { dataSource, maxBatchSize } = options;
  return (source, args, context, info) => {
    const node = info.fieldNodes[0] as FieldNode;
    const prefetched = context.prefetched;
    if (prefetched !== undefined && prefetched.node === node && info.path.prev === undefined) {
      context.prefetched = undefined;
      ++context.resolutions;
      if (prefetched.failed) throw prefetched.error;
      return prefetched.value;
    }
    let byParent = context.selections.get(node);
    if (byParent === undefined) {
      byParent = new Map();
      context.selections.set(node, byParent);
    }
    let selection = byParent.get(info.parentType.name);
    if (selection === undefined) {
      selection = selectionSetInfo(info);
      byParent.set(info.parentType.name, selection);
    }
    if (++context.resolutions > MAX_RESOLUTIONS) {
      throw new AppSyncError(
        `Too many resolver invocations in one request (at most ${MAX_RESOLUTIONS}).`,
        'BadRequest',
      );
    }
    const event = resolverEvent(context.facts, args, source, info, selection);
    if (info.path.prev === undefined || maxBatchSize === 0) return invoke(dataSource, event);
    let loader = context.loaders.get(key);
    if (loader === undefined) {
      loader = createBatchLoader(dataSource, maxBatchSize);
      context.loaders.set(key, loader);
    }
    return loader.load(event);
  };
}

/** Sets the resolver of every object field of a schema built for this endpoint alone. */
export function installResolvers(schema: GraphQLSchema, options: ResolutionOptions): void {
  for (const [type, field] of objectFields(schema)) {
    const key = `${type.name}.${field.name}`;
    const auth = fieldAuth(schema, type, field, options.defaultMode);
    const resolve: GraphQLFieldResolver<
      unknown,
      ExecutionContext,
      Record<string, unknown>
    > = options.resolvers.has(key) ? dataSourceResolver(key, options) : defaultFieldResolver;
    const installedResolve: GraphQLFieldResolver<unknown, unknown> = (
      source,
      args: Record<string, unknown>,
      context,
      info,
    ) => {
      const execution = context as ExecutionContext;
      if (!isAllowed(auth, execution.caller)) throw notAuthorizedToAccess(field.name, type.name);
      return resolve(source, args, execution, info);
    };
    field.resolve = installedResolve;
    installed.set(field, { key, auth, dataSource: options.resolvers.has(key), resolve: installedResolve });
  }
}
