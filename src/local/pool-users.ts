import type { UserPool } from './user-pool/index.js';

const TARGET = 'AWSCognitoIdentityProviderService.';

async function call(
  pool: UserPool,
  operation: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(pool.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${TARGET}${operation}` },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    const error = new Error(String(json.message ?? response.statusText));
    error.name = String(json.__type ?? 'Error');
    throw error;
  }
  return json;
}

/**
 * Gives a seeded user a login on the local user pool the way a person would get one: SignUp,
 * then ConfirmSignUp with the code the pool hands to loopback callers. The real triggers run
 * (PreSignUp checks the invitation, PostConfirmation binds the identity). An existing login
 * is left as it is.
 */
export async function ensurePoolLogin(
  pool: UserPool,
  email: string,
  password: string,
): Promise<'created' | 'existing'> {
  try {
    await call(pool, 'SignUp', {
      ClientId: pool.clientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: 'email', Value: email }],
    });
  } catch (error) {
    if ((error as Error).name === 'UsernameExistsException') return 'existing';
    throw error;
  }
  const codes = (await (
    await fetch(`${pool.url}/_local/codes?username=${encodeURIComponent(email)}`)
  ).json()) as {
    codes?: { confirmSignUp?: { code: string } };
  };
  const code = codes.codes?.confirmSignUp?.code;
  if (!code) throw new Error(`the local user pool gave no confirmation code for ${email}`);
  await call(pool, 'ConfirmSignUp', { ClientId: pool.clientId, Username: email, ConfirmationCode: code });
  return 'created';
}
