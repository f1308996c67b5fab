export {
  createGraphqlEndpoint,
  EXPLORER_PATH,
  GRAPHQL_PATH,
  type DefaultAuthMode,
  type GraphqlEndpoint,
  type GraphqlEndpointOptions,
} from './endpoint.js';
export { startGraphqlServer, type GraphqlServer, type GraphqlServerOptions } from './server.js';
export type { Caller, TokenVerifierLike } from './auth.js';
export type { GraphqlRequest, GraphqlResponse, RequestOrigin } from './execute.js';
export type { AppSyncGraphqlError } from './errors.js';
export type { ExplorerOptions } from './explorer.js';
export { subscriptionTriggers, type AuthMode } from './directives.js';
export { buildAppSyncSchema } from './schema.js';
export { AWS_SCALAR_NAMES, awsScalar } from './scalars.js';
export {
  createRealtimeEndpoint,
  REALTIME_PATH,
  REALTIME_SUBPROTOCOL,
  type RealtimeEndpoint,
  type RealtimeOptions,
} from './realtime.js';
export {
  createSubscriptionHub,
  type ActiveSubscription,
  type RealtimeError,
  type SubscriptionHub,
  type SubscriptionPayload,
} from './subscriptions.js';
