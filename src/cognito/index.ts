export {
  createCognitoTriggers,
  type CognitoTriggerEvent,
  type CognitoTriggers,
  type CognitoTriggersOptions,
  type PreTokenGenerationEvent,
} from './triggers.js';
export {
  CognitoTriggerError,
  TRIGGER_ERROR_TEXT,
  toCognitoErrorMessage,
  triggerNameOf,
  type TriggerErrorCode,
  type TriggerLogger,
  type TriggerName,
} from './errors.js';
export { CLAIM_TENANT_ID, CLAIM_TENANT_ROLE, CLAIM_TENANT_SLUG, groupsFor, tenantClaims } from './claims.js';
