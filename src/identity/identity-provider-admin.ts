import { CognitionError } from '../errors.js';

/** The administrative calls pg-cognition makes on the identity provider (Cognito). */
export interface IdentityProviderAdmin {
  /**
   * Creates the login of an invited user, recording its tenant (AdminCreateUser). Succeeds
   * quietly when the login exists already, so that a retried request is harmless.
   */
  createUser(user: {
    email: string;
    tenantId: string | null;
    role: string;
    givenName?: string | null;
    familyName?: string | null;
  }): Promise<void>;
}

export interface CognitoAdminOptions {
  userPoolId: string;
  region?: string;
  /** The local user pool's URL, or any Cognito-compatible endpoint. */
  endpoint?: string;
  /** Static credentials (the local pool accepts any); by default the SDK's provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Cognito sends the invitation with a generated temporary password unless this gives one
   * (development and tests only: a fixed temporary password is a shared secret).
   */
  temporaryPassword?: (email: string) => string;
}

/** The custom attribute that records a user's tenant in the user pool. */
export const TENANT_ATTRIBUTE = 'custom:tenant_id';

/**
 * AdminCreateUser through the official SDK client, loaded on first use so that handlers that
 * never create users do not load it.
 */
export function cognitoAdmin(options: CognitoAdminOptions): IdentityProviderAdmin {
  type Sdk = typeof import('@aws-sdk/client-cognito-identity-provider');
  let sdk: Promise<{ module: Sdk; client: InstanceType<Sdk['CognitoIdentityProviderClient']> }> | undefined;
  const load = () =>
    (sdk ??= import('@aws-sdk/client-cognito-identity-provider').then((module) => ({
      module,
      client: new module.CognitoIdentityProviderClient({
        ...(options.region && { region: options.region }),
        ...(options.endpoint && { endpoint: options.endpoint }),
        ...(options.credentials && { credentials: options.credentials }),
      }),
    })));
  return {
    async createUser(user) {
      const { module, client } = await load();
      const attributes = [
        { Name: 'email', Value: user.email },
        // The invitation reached this address through a manager, and PreSignUp accepts only
        // invited addresses; binding by email needs it verified.
        { Name: 'email_verified', Value: 'true' },
        ...(user.tenantId ? [{ Name: TENANT_ATTRIBUTE, Value: user.tenantId }] : []),
        ...(user.givenName ? [{ Name: 'given_name', Value: user.givenName }] : []),
        ...(user.familyName ? [{ Name: 'family_name', Value: user.familyName }] : []),
      ];
      const temporary = options.temporaryPassword?.(user.email);
      try {
        await client.send(
          new module.AdminCreateUserCommand({
            UserPoolId: options.userPoolId,
            Username: user.email,
            UserAttributes: attributes,
            DesiredDeliveryMediums: ['EMAIL'],
            ...(temporary !== undefined && { TemporaryPassword: temporary }),
          }),
        );
      } catch (error) {
        if ((error as { name?: string }).name === 'UsernameExistsException') return;
        throw new CognitionError(
          'ERR_IDENTITY_PROVIDER',
          'the identity provider refused to create the login',
          {
            cause: error,
          },
        );
      }
    },
  };
}
