export { Cognition, type CognitionOptions, type ExecutionMode, type RunAsOptions } from './cognition.js';
export { CognitionError, isCognitionError, type ErrorCode } from './errors.js';
export type { Executor, ExecResult, RunAs } from './db/executor.js';
export { RoleSwitchExecutor } from './db/role-switch-executor.js';
export { CredentialsExecutor, type CredentialsExecutorOptions } from './db/credentials-executor.js';
export { migrate, readMigrations, type MigrationResult } from './db/migrator.js';
export {
  createSecretStore,
  userSecretId,
  type SecretStore,
  type SecretStoreConfig,
  type UserSecret,
} from './secrets/secret-store.js';
export { TenantService, type Tenant, type TenantStatus } from './tenancy/tenants.js';
export {
  migrateTemplates,
  type TemplateMigrateOptions,
  type TemplateMigrateReport,
  type TemplateMigrationProgress,
} from './tenancy/template-migrations.js';
export {
  UserService,
  type User,
  type UserRef,
  type InviteInput,
  type ProvisionResult,
} from './users/users.js';
export type { UserRole, UserStatus, TenantRole } from './users/validation.js';
export * from './cognito/index.js';
export {
  createTokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './identity/token-verifier.js';
export * from './appsync/index.js';
export {
  TenantRoleService,
  type TenantRoleInfo,
  type TenantRolesDeclaration,
} from './tenancy/tenant-roles.js';
export {
  cognitoAdmin,
  TENANT_ATTRIBUTE,
  type CognitoAdminOptions,
  type IdentityProviderAdmin,
} from './identity/identity-provider-admin.js';
