export { startUserPool, type UserPool, type UserPoolOptions } from './server.js';
export type { CognitoTriggerEvent, TriggerFunction } from './events.js';
