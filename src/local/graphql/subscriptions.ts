import {
  execute as executeGraphql,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { GraphQLError } from 'graphql';
import type { DataSourceHandler, ResolverEvent } from '../../appsync/types.js';
import type { Caller } from './auth.js';
import { invoke } from './batching.js';
import { fieldAuth, isAllowed, subscriptionTriggers, type AuthMode } from './directives.js';
import type { DocumentCache } from './documents.js';
import { AppSyncError, formatError, notAuthorizedToAccess, type AppSyncGraphqlError } from './errors.js';
import {
  eventHeaders,
  eventIdentity,
  fieldEvent,
  jsonCopy,
  resolverEvent,
  selectionSetInfo,
  sourceIps,
  type RequestFacts,
} from './events.js';
import type { Execute, GraphqlRequest, GraphqlResponse, RequestOrigin } from './execute.js';
import { newExecutionContext, type Capture, type ExecutionContext } from './resolution.js';

/**
 * Subscriptions in AppSync's manner, with every event authorized in the database as the subscriber.
 *
 * - `@aws_subscribe(mutations: [...])`: when one of the named mutation fields completes without an
 *   error (through `execute`, i.e. `POST /graphql`), the object its resolver returned is published
 *   to the subscriptions of that subscription field.
 * - Arguments of the subscription are equality filters: each argument given (not null) must equal
 *   the published object's field of the same name (IDs compare as text).
 * - Filters only narrow; they never grant. Before an event is delivered, the subscription field's
 *   resolver runs through the data source *as the subscriber*, with the published object as its
 *   `source` and the subscription's arguments as its `arguments`. No row (null) or an error means
 *   the event is not delivered to that subscriber. A subscription field without a resolver cannot
 *   be authorized that way and is refused when a client starts it (fail closed).
 * - The subscription's selection set is then applied to what the resolver returned, as the
 *   subscriber (nested fields go through their own resolvers and auth directives), and the client
 *   gets `{ data: { <field or alias>: {...} } }`, with `errors` if a nested field failed.
 */

/** An error as the real-time protocol carries it: `{ errorType, message }`. */
export interface RealtimeError {
  errorType: string;
  message: string;
}

/** What a subscriber gets per delivered event: the `payload` of a `data` message. */
export interface SubscriptionPayload {
  data: unknown;
  errors?: AppSyncGraphqlError[];
}

export interface SubscribeRequest {
  request: GraphqlRequest;
  caller: Caller;
  /** Where the subscriber is: its headers (for the events' `request.headers`) and TCP peer. */
  origin: RequestOrigin;
  /** Called once per delivered event, in publishing order. */
  deliver(payload: SubscriptionPayload): void;
}

export interface ActiveSubscription {
  /** The subscription field, e.g. `onMessage`. */
  readonly field: string;
  /** Stops delivery at once, even of an event being authorized right now. Idempotent. */
  unsubscribe(): void;
}

export type SubscribeResult =
  { ok: true; subscription: ActiveSubscription } | { ok: false; errors: RealtimeError[] };

export interface SubscriptionHub {
  /**
   * Validates and authorizes a subscription for an authenticated caller (its auth directives,
   * then its resolver run once as the caller with no source, as AppSync does when a client
   * subscribes), and registers it.
   */
  subscribe(request: SubscribeRequest): Promise<SubscribeResult>;
  /**
   * Publishes a mutation field's result to the subscriptions it triggers; resolves when every
   * matching subscriber has had the event authorized (and delivered or not).
   */
  publish(mutationField: string, value: unknown): Promise<void>;
  /** `execute` that publishes the results of triggering mutations once a request has run. */
  publishing(execute: Execute): Execute;
  /** Subscriptions currently registered. */
  readonly size: number;
  /** Drops every subscription. */
  clear(): void;
}

export interface SubscriptionHubOptions {
  schema: GraphQLSchema;
  documents: DocumentCache;
  /** The `Type.field` names resolved by the data source. */
  resolvers: ReadonlySet<string>;
  dataSource: DataSourceHandler;
  defaultMode: AuthMode;
  log: (line: string) => void;
}

export const NEEDS_AUTHORIZING_RESOLVER = (field: string): string =>
  `Subscription.${field} has no resolver. A subscription needs an authorizing resolver: each event is ` +
  'read again through the data source as the subscriber (source = the mutation result) and delivered ' +
  'only if that read returns it.';

export const ValidationErrorType = 'ValidationError';
export const UnsupportedOperationType = 'UnsupportedOperation';

interface Registered {
  readonly field: string;
  readonly responseKey: string;
  readonly caller: Caller;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  readonly variables: Record<string, unknown>;
  readonly facts: RequestFacts;
  readonly filter: Readonly<Record<string, unknown>>;
  readonly deliver: (payload: SubscriptionPayload) => void;
  active: boolean;
  /** Events of one subscription are authorized and delivered one after the other, in order. */
  queue: Promise<void>;
}

type Captured = Capture;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Equality of an argument and a field value; IDs may be numbers on one side and text on the other. */
export function sameValue(expected: unknown, actual: unknown): boolean {
  if (typeof expected === 'number' && typeof actual === 'string') return String(expected) === actual;
  if (typeof expected === 'string' && typeof actual === 'number') return expected === String(actual);
  if (typeof expected !== 'object' || expected === null) return expected === actual;
  return canonical(expected) === canonical(actual);
}

/** AppSync's argument filter: every argument given (not null) equals the published field of that name. */
export function matchesFilter(filter: Readonly<Record<string, unknown>>, value: unknown): boolean {
  for (const [name, expected] of Object.entries(filter)) {
    if (expected === null || expected === undefined) continue;
    if (!isRecord(value) || !sameValue(expected, value[name])) return false;
  }
  return true;
}

/** The filter checked again on the resolver's answer: a field it returns must agree too. */
function agreesWithFilter(filter: Readonly<Record<string, unknown>>, value: unknown): boolean {
  if (!isRecord(value)) return true;
  for (const [name, expected] of Object.entries(filter)) {
    if (expected === null || expected === undefined || !Object.hasOwn(value, name)) continue;
    if (!sameValue(expected, value[name])) return false;
  }
  return true;
}

/** The root fields of an operation's selection set (fragments followed), `__typename` aside. */
function rootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') fields.push(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      fields.push(...rootFields(selection.selectionSet, fragments, seen));
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) fields.push(...rootFields(fragment.selectionSet, fragments, seen));
    }
  }
  return fields;
}

function validationErrors(errors: readonly GraphQLError[]): RealtimeError[] {
  return errors.map((error) => ({ errorType: ValidationErrorType, message: error.message }));
}

export function createSubscriptionHub(options: SubscriptionHubOptions): SubscriptionHub {
  const { schema, documents, resolvers, dataSource, defaultMode, log } = options;
  const subscriptionType = schema.getSubscriptionType() ?? undefined;
  const triggers = subscriptionTriggers(schema);
  /** Mutation field → the subscription fields it triggers. */
  const triggered = new Map<string, string[]>();
  for (const [field, mutations] of triggers) {
    for (const mutation of mutations) triggered.set(mutation, [...(triggered.get(mutation) ?? []), field]);
  }
  const byField = new Map<string, Set<Registered>>();

  // The subscription fields' resolvers: run only to authorize an event for one subscriber. The
  // published object is the source (AppSync hands subscription resolvers the mutation result).
  if (subscriptionType) {
    for (const field of Object.values(subscriptionType.getFields())) {
      installSubscriptionResolver(subscriptionType, field);
    }
  }

  // The triggering mutations' resolvers: remember what they returned during this request.
  const mutationType = schema.getMutationType();
  if (mutationType) {
    for (const field of Object.values(mutationType.getFields())) {
      if (!triggered.has(field.name) || field.resolve === undefined) continue;
      const resolve = field.resolve;
      field.resolve = async (source, args, context, info) => {
        const value: unknown = await resolve(source, args, context, info);
        if (info.path.prev === undefined) {
          (context as ExecutionContext).captures?.push({
            responseKey: String(info.path.key),
            field: field.name,
            value,
          });
        }
        return value;
      };
    }
  }

  function installSubscriptionResolver(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): void {
    const key = `${type.name}.${field.name}`;
    const auth = fieldAuth(schema, type, field, defaultMode);
    const resolve: GraphQLFieldResolver<unknown, ExecutionContext, Record<string, unknown>> = async (
      source,
      args,
      context,
      info,
    ) => {
      if (!isAllowed(auth, context.caller)) throw notAuthorizedToAccess(field.name, type.name);
      if (!resolvers.has(key)) throw new AppSyncError(NEEDS_AUTHORIZING_RESOLVER(field.name), 'Unauthorized');
      const event = resolverEvent(context.facts, args, source, info, selectionSetInfo(info));
      event.source = isRecord(source) ? (jsonCopy(source) as ResolverEvent['source']) : null;
      const value = await invoke(dataSource, event);
      // A resolver that returns another row than the one published is not this event.
      return agreesWithFilter(args, value) ? value : null;
    };
    field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
  }

  async function subscribe(request: SubscribeRequest): Promise<SubscribeResult> {
    const prepared = documents.prepare(request.request.query);
    if (prepared.errors) return { ok: false, errors: validationErrors(prepared.errors) };
    const { document } = prepared;
    const operationName = request.request.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return {
        ok: false,
        errors: [
          {
            errorType: ValidationErrorType,
            message: operationName
              ? `Unknown operation named "${operationName}".`
              : 'Must provide operation name if query contains multiple operations.',
          },
        ],
      };
    }
    if (operation.operation !== 'subscription') {
      return {
        ok: false,
        errors: [
          {
            errorType: UnsupportedOperationType,
            message: `${operation.operation} not supported through the realtime channel`,
          },
        ],
      };
    }
    if (!subscriptionType) {
      return {
        ok: false,
        errors: [{ errorType: ValidationErrorType, message: 'The schema has no Subscription type.' }],
      };
    }
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const nodes = rootFields(operation.selectionSet, fragments);
    const node = nodes[0];
    if (nodes.length !== 1 || node === undefined) {
      return {
        ok: false,
        errors: [
          {
            errorType: ValidationErrorType,
            message: 'A subscription operation must select exactly one top level field.',
          },
        ],
      };
    }
    const field = subscriptionType.getFields()[node.name.value];
    if (!field) {
      return {
        ok: false,
        errors: [
          { errorType: ValidationErrorType, message: `Unknown subscription field ${node.name.value}.` },
        ],
      };
    }

    // The caller may subscribe to this field at all (auth directives), as AppSync checks at start.
    if (!isAllowed(fieldAuth(schema, subscriptionType, field, defaultMode), request.caller)) {
      const denied = notAuthorizedToAccess(field.name, subscriptionType.name);
      return {
        ok: false,
        errors: [{ errorType: denied.errorType ?? 'Unauthorized', message: denied.message }],
      };
    }
    // Fail closed: without a resolver, no event could be authorized as the subscriber.
    if (!resolvers.has(`${subscriptionType.name}.${field.name}`)) {
      return {
        ok: false,
        errors: [{ errorType: UnsupportedOperationType, message: NEEDS_AUTHORIZING_RESOLVER(field.name) }],
      };
    }

    const variables = request.request.variables ?? {};
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, {
      maxErrors: 50,
    });
    if (coerced.errors) return { ok: false, errors: validationErrors(coerced.errors) };
    let filter: Record<string, unknown>;
    try {
      filter = getArgumentValues(field, node, coerced.coerced);
    } catch (error) {
      if (error instanceof GraphQLError) return { ok: false, errors: validationErrors([error]) };
      throw error;
    }

    const facts = {
      headers: eventHeaders(request.origin.headers),
      identity: eventIdentity(
        request.caller,
        sourceIps(request.origin.headers, request.origin.remoteAddress),
      ),
      variables,
    };
    // The resolver runs now as the subscriber, with no event: the database may refuse the
    // subscription outright (AppSync runs subscription resolvers at subscribe time too).
    try {
      const selection = selectionSetInfo({
        fieldNodes: [node],
        returnType: field.type,
        fragments: Object.fromEntries(fragments),
        variableValues: coerced.coerced,
      });
      await invoke(dataSource, fieldEvent(facts, filter, null, field.name, subscriptionType.name, selection));
    } catch (error) {
      const formatted = error instanceof AppSyncError ? error : undefined;
      return {
        ok: false,
        errors: [
          {
            errorType: formatted?.errorType ?? 'Unauthorized',
            message: formatted?.message ?? 'Not Authorized to subscribe.',
          },
        ],
      };
    }

    const registered: Registered = {
      field: field.name,
      responseKey: node.alias?.value ?? node.name.value,
      caller: request.caller,
      document,
      operationName,
      variables,
      facts,
      filter,
      deliver: request.deliver,
      active: true,
      queue: Promise.resolve(),
    };
    let set = byField.get(field.name);
    if (!set) {
      set = new Set();
      byField.set(field.name, set);
    }
    set.add(registered);
    return {
      ok: true,
      subscription: {
        field: field.name,
        unsubscribe() {
          registered.active = false;
          const current = byField.get(field.name);
          current?.delete(registered);
          if (current?.size === 0) byField.delete(field.name);
        },
      },
    };
  }

  /** Authorizes one event for one subscriber, as that subscriber, and delivers it if the database agrees. */
  async function deliverOne(subscription: Registered, value: unknown): Promise<void> {
    if (!subscription.active) return;
    const result = await executeGraphql({
      schema,
      document: subscription.document,
      variableValues: subscription.variables,
      operationName: subscription.operationName,
      rootValue: value,
      contextValue: newExecutionContext(subscription.caller, subscription.facts),
    });
    const key = subscription.responseKey;
    const rootErrors = (result.errors ?? []).filter((e) => e.path?.length === 1 && e.path[0] === key);
    for (const error of rootErrors) {
      const original = error.originalError;
      const errorType = original instanceof AppSyncError ? original.errorType : null;
      // Refusals are the point of this check; anything else deserves a line in the log.
      if (errorType !== 'Unauthorized') {
        log(
          `[graphql] Subscription.${subscription.field}: an event was not delivered: ${errorType ?? 'Error'}: ${error.message}`,
        );
      }
    }
    const data = result.data as Record<string, unknown> | null | undefined;
    if (rootErrors.length > 0 || !data || data[key] === null || data[key] === undefined) return;
    if (!subscription.active) return;
    const payload: SubscriptionPayload = { data };
    if (result.errors && result.errors.length > 0) payload.errors = result.errors.map(formatError);
    subscription.deliver(payload);
  }

  function publish(mutationField: string, value: unknown): Promise<void> {
    const fields = triggered.get(mutationField);
    if (!fields || value === null || value === undefined) return Promise.resolve();
    const published = jsonCopy(value);
    const runs: Promise<void>[] = [];
    for (const field of fields) {
      for (const subscription of byField.get(field) ?? []) {
        if (!matchesFilter(subscription.filter, published)) continue;
        subscription.queue = subscription.queue
          .then(() => deliverOne(subscription, published))
          .catch((error: unknown) => {
            log(
              `[graphql] Subscription.${subscription.field}: delivery failed: ${
                error instanceof Error ? (error.stack ?? error.message) : String(error)
              }`,
            );
          });
        runs.push(subscription.queue);
      }
    }
    return Promise.all(runs).then(() => undefined);
  }

  function publishCaptured(records: readonly Captured[], response: GraphqlResponse): void {
    const data = isRecord(response.data) ? response.data : null;
    for (const record of records) {
      const failed = (response.errors ?? []).some(
        (e) => e.path?.length === 1 && e.path[0] === record.responseKey,
      );
      const answered = data?.[record.responseKey];
      if (failed || answered === null || answered === undefined) continue;
      void publish(record.field, record.value);
    }
  }

  return {
    subscribe,
    publish,
    publishing(execute) {
      if (triggered.size === 0) return execute;
      return async (request, caller, origin) => {
        // Passed through the request's context rather than async-local storage, whose hooks
        // would tax every promise of every request.
        const records: Captured[] = [];
        const response = await execute(request, caller, origin, records);
        if (records.length > 0) publishCaptured(records, response);
        return response;
      };
    },
    get size() {
      let count = 0;
      for (const set of byField.values()) count += set.size;
      return count;
    },
    clear() {
      for (const set of byField.values()) for (const subscription of set) subscription.active = false;
      byField.clear();
    },
  };
}
