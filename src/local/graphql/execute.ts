import type { IncomingHttpHeaders } from 'node:http';
import { execute, getOperationAST, GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { DataSourceHandler } from '../../appsync/types.js';
import type { Caller } from './auth.js';
import { planDirect, runDirect, type DirectPlan } from './direct.js';
import type { DocumentCache } from './documents.js';
import { formatError, type AppSyncGraphqlError } from './errors.js';
import { eventHeaders, requestIdentity, sourceIps, type RequestFacts } from './events.js';
import { newExecutionContext, type Capture, type Prefetched } from './resolution.js';

/**
 * Runs one GraphQL request for an authenticated caller. Shared by `POST /graphql` and, next, the
 * real-time endpoint (subscriptions are registered there, not executed here).
 */

export interface GraphqlRequest {
  query: string;
  variables?: Record<string, unknown> | null | undefined;
  operationName?: string | null | undefined;
}

/** Where the request came from: its headers and TCP peer, for the events' `request` and `sourceIp`. */
export interface RequestOrigin {
  headers: IncomingHttpHeaders;
  remoteAddress?: string | undefined;
}

export interface GraphqlResponse {
  data: unknown;
  errors?: AppSyncGraphqlError[];
}

export type Execute = (
  request: GraphqlRequest,
  caller: Caller,
  origin: RequestOrigin,
  /** Where resolvers record what should be published once the request is done (subscriptions). */
  captures?: Capture[],
) => Promise<GraphqlResponse>;

export interface ExecuteOptions {
  /** The data source, for direct execution (direct.ts); without it every request goes through graphql-js. */
  dataSource?: DataSourceHandler | undefined;
  /** Default true: single data-source root field queries skip graphql-js's executor (same responses). */
  direct?: boolean | undefined;
}

export const SUBSCRIPTION_OVER_HTTP =
  'Subscriptions are not served over POST /graphql: they are registered over the real-time WebSocket endpoint.';

export function createExecute(
  schema: GraphQLSchema,
  documents: DocumentCache,
  options: ExecuteOptions = {},
): Execute {
  const { dataSource } = options;
  const direct = dataSource !== undefined && options.direct !== false;
  // Plans live as long as their document stays in the document cache.
  const plans = new WeakMap<DocumentNode, DirectPlan | null>();
  const planOf = (document: DocumentNode): DirectPlan | null => {
    let plan = plans.get(document);
    if (plan === undefined) plans.set(document, (plan = planDirect(schema, document) ?? null));
    return plan;
  };

  return async (request, caller, origin, captures) => {
    const prepared = documents.prepare(request.query);
    if (prepared.errors) return { data: null, errors: prepared.errors.map(formatError) };
    const { document } = prepared;
    const operationName = request.operationName ?? undefined;

    const operation = getOperationAST(document, operationName);
    if (operation?.operation === 'subscription') {
      // Extension point: the real-time endpoint will register the subscription instead.
      return {
        data: null,
        errors: [formatError(new GraphQLError(SUBSCRIPTION_OVER_HTTP, { nodes: operation }))],
      };
    }

    const variables = request.variables ?? {};
    const facts: RequestFacts = {
      headers: eventHeaders(origin.headers),
      identity: requestIdentity(caller, sourceIps(origin.headers, origin.remoteAddress)),
      variables,
    };
    let prefetched: Prefetched | undefined;
    if (direct) {
      const plan = planOf(document);
      if (plan !== null && plan.operation === operation) {
        const outcome = await runDirect(plan, dataSource, caller, facts);
        if (outcome.done) return { data: outcome.data };
        prefetched = outcome.prefetched;
      }
    }
    const context = newExecutionContext(caller, facts, captures);
    context.prefetched = prefetched;
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      operationName,
      contextValue: context,
    });
    const response: GraphqlResponse = { data: result.data ?? null };
    if (result.errors && result.errors.length > 0) response.errors = result.errors.map(formatError);
    return response;
  };
}
