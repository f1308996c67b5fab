import type { IncomingHttpHeaders } from 'node:http';
import { execute, getOperationAST, GraphQLError, type GraphQLSchema } from 'graphql';
import type { Caller } from './auth.js';
import type { DocumentCache } from './documents.js';
import { formatError, type AppSyncGraphqlError } from './errors.js';
import { eventHeaders, eventIdentity, sourceIps } from './events.js';
import { newExecutionContext, type Capture } from './resolution.js';

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

export const SUBSCRIPTION_OVER_HTTP =
  'Subscriptions are not served over POST /graphql: they are registered over the real-time WebSocket endpoint.';

export function createExecute(schema: GraphQLSchema, documents: DocumentCache): Execute {
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
    const facts = {
      headers: eventHeaders(origin.headers),
      identity: eventIdentity(caller, sourceIps(origin.headers, origin.remoteAddress)),
      variables,
    };
    const result = await execute({
      schema,
      document,
      variableValues: variables,
      operationName,
      contextValue: newExecutionContext(caller, facts, captures),
    });
    const response: GraphqlResponse = { data: result.data ?? null };
    if (result.errors && result.errors.length > 0) response.errors = result.errors.map(formatError);
    return response;
  };
}
