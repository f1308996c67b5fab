import { ensurePoolLogin } from '../src/local/pool-users.js';
import type { UserPool } from '../src/local/user-pool/index.js';

/**
 * A user-pool ID token the way a client gets one: sign-up and confirmation if the user has no
 * login yet (the pool's PostConfirmation trigger provisions the invited user's database role),
 * then USER_PASSWORD_AUTH.
 */
export async function idToken(
  pool: { url: string; clientId: string },
  email: string,
  password: string,
): Promise<string> {
  await ensurePoolLogin(pool as UserPool, email, password);
  const response = await fetch(pool.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
    },
    body: JSON.stringify({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  });
  const json = (await response.json()) as { AuthenticationResult?: { IdToken?: string } };
  const token = json.AuthenticationResult?.IdToken;
  if (!token) throw new Error(`no ID token for ${email}: ${JSON.stringify(json)}`);
  return token;
}
