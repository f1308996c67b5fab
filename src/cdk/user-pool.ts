import type { RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { TENANT_ATTRIBUTE } from '../identity/identity-provider-admin.js';

/** `custom:tenant_id` → `tenant_id`: the attribute as the pool schema declares it. */
const TENANT_ATTRIBUTE_NAME = TENANT_ATTRIBUTE.replace(/^custom:/, '');

export interface UserPoolOptions {
  triggers: lambda.IFunction;
  /** The user pool groups: the role names. */
  groups: readonly string[];
  /** Invited users sign up themselves (default), or only administrators create accounts. */
  selfSignUp: boolean;
  /** V1_0 (default): claims in the ID token. V2_0: in the access token too (needs Essentials or Plus). */
  preTokenGenerationVersion: 'V1_0' | 'V2_0';
  featurePlan?: cognito.FeaturePlan;
  customAttributes?: Record<string, cognito.ICustomAttribute>;
  email?: cognito.UserPoolEmail;
  removalPolicy?: RemovalPolicy;
  deletionProtection?: boolean;
}

export interface UserPool {
  userPool: cognito.UserPool;
  client: cognito.UserPoolClient;
}

/**
 * The Cognito user pool. Users sign in with their email, compared case-insensitively as the
 * database does; who may sign up, sign in and with which claims is decided by the four triggers
 * (invitations, status and tenant live in the database). The tenant and role are token claims
 * added by PreTokenGeneration; the one custom attribute, `custom:tenant_id`, is what the logins
 * pg-cognition creates record, and users may not write it themselves. Its groups are
 * the role names: PreTokenGeneration puts the user's role in `cognito:groups` (what
 * `@aws_cognito_user_pools(cognito_groups:)` checks) whether or not the group exists, and the
 * groups make the roles visible in the console (never add users to them: the database decides).
 */
export function createUserPool(scope: Construct, options: UserPoolOptions): UserPool {
  const userPool = new cognito.UserPool(scope, 'UserPool', {
    selfSignUpEnabled: options.selfSignUp,
    signInAliases: { email: true },
    signInCaseSensitive: false,
    autoVerify: { email: true },
    // An email change takes effect once verified: invitations are matched by verified email.
    keepOriginal: { email: true },
    standardAttributes: { email: { required: true, mutable: true } },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    featurePlan:
      options.featurePlan ??
      (options.preTokenGenerationVersion === 'V2_0'
        ? cognito.FeaturePlan.ESSENTIALS
        : cognito.FeaturePlan.LITE),
    customAttributes: {
      // Recorded by the logins pg-cognition creates (AdminCreateUser, e.g. addUser); informational:
      // the tenant of a request always comes from the database.
      [TENANT_ATTRIBUTE_NAME]: new cognito.StringAttribute({ mutable: true, maxLen: 64 }),
      ...options.customAttributes,
    },
    ...(options.email && { email: options.email }),
    ...(options.removalPolicy !== undefined && { removalPolicy: options.removalPolicy }),
    ...(options.deletionProtection !== undefined && { deletionProtection: options.deletionProtection }),
  });
  userPool.addTrigger(cognito.UserPoolOperation.PRE_SIGN_UP, options.triggers);
  userPool.addTrigger(cognito.UserPoolOperation.POST_CONFIRMATION, options.triggers);
  userPool.addTrigger(cognito.UserPoolOperation.PRE_AUTHENTICATION, options.triggers);
  if (options.preTokenGenerationVersion === 'V2_0') {
    userPool.addTrigger(
      cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      options.triggers,
      cognito.LambdaVersion.V2_0,
    );
  } else {
    userPool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION, options.triggers);
  }
  for (const role of options.groups) {
    userPool.addGroup(`Group-${role}`, {
      groupName: role,
      description: `pg-cognition role ${role}: set in tokens by PreTokenGeneration from the database`,
    });
  }
  const client = userPool.addClient('WebClient', {
    authFlows: { userPassword: true, userSrp: true },
    // Sign-in through the API (SDK, Amplify); no hosted UI unless the application adds one.
    disableOAuth: true,
    generateSecret: false,
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    // Users may write their standard attributes, never the custom ones (custom:tenant_id).
    writeAttributes: new cognito.ClientAttributes().withStandardAttributes({
      address: true,
      birthdate: true,
      email: true,
      familyName: true,
      fullname: true,
      gender: true,
      givenName: true,
      locale: true,
      middleName: true,
      nickname: true,
      phoneNumber: true,
      preferredUsername: true,
      profilePage: true,
      profilePicture: true,
      timezone: true,
      website: true,
    }),
  });
  return { userPool, client };
}
