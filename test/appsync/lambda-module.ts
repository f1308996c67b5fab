import type { DataSourceCommonOptions } from '../../src/appsync/types.js';
import { FIXTURE_IAM_ROLE } from './helpers.js';

/** A resolvers module as COGNITION_RESOLVERS names it: `resolvers`, and optionally `options`. */
export { resolvers } from './resolvers.js';

export const options: Partial<DataSourceCommonOptions> = {
  identity: { iamRoleNames: { [FIXTURE_IAM_ROLE]: 'alice@acme.test' } },
};
