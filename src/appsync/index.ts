export { createDataSource } from './data-source.js';
export { addUserResolver } from './add-user.js';
export { AppSyncError, type AppSyncErrorType } from './errors.js';
export { oidcSubject, parseAssumedRoleArn, type IdentityKind } from './identity.js';
export { toJsonRow, toJsonValue } from './json.js';
export type * from './types.js';
