// Signs up, logs in and refreshes against the local user pool with the official AWS SDK, as
// an application would against Amazon Cognito. Run `npm start` first (it writes the pool's
// endpoint and ids to .cognition/stack.json).
//
//   npx tsx examples/cognito.ts sign-up <email> <password>   SignUp, ConfirmSignUp (code from the local pool), log in
//   npx tsx examples/cognito.ts log-in <email> <password>    InitiateAuth USER_PASSWORD_AUTH
//   npx tsx examples/cognito.ts refresh <email>              InitiateAuth REFRESH_TOKEN_AUTH with the last refresh token
//   npx tsx examples/cognito.ts token <email> <password>     prints only the ID token (for curl)
import {
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  SignUpCommand,
  type AuthenticationResultType,
} from '@aws-sdk/client-cognito-identity-provider';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const home = resolve(process.env.COGNITION_HOME ?? '.cognition');
const { userPool } = JSON.parse(await readFile(join(home, 'stack.json'), 'utf8')) as {
  userPool: { url: string; poolId: string; clientId: string };
};
const client = new CognitoIdentityProviderClient({
  endpoint: userPool.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const tokensFile = (email: string) => join(home, 'tokens', `${email.toLowerCase()}.json`);

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

async function show(email: string, result: AuthenticationResultType | undefined): Promise<void> {
  if (!result?.IdToken) throw new Error('no tokens returned');
  const id = claimsOf(result.IdToken);
  console.log('ID token claims:', {
    sub: id.sub,
    email: id.email,
    'cognito:groups': id['cognito:groups'],
    tenant_id: id.tenant_id,
    tenant_slug: id.tenant_slug,
    tenant_role: id.tenant_role,
    exp: new Date(Number(id.exp) * 1000).toISOString(),
  });
  if (result.RefreshToken) {
    await mkdir(join(home, 'tokens'), { recursive: true, mode: 0o700 });
    await writeFile(tokensFile(email), JSON.stringify({ refreshToken: result.RefreshToken }), {
      mode: 0o600,
    });
  }
}

async function logIn(email: string, password: string): Promise<void> {
  const { AuthenticationResult } = await client.send(
    new InitiateAuthCommand({
      ClientId: userPool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  await show(email, AuthenticationResult);
}

const [command, email, password] = process.argv.slice(2);
try {
  if (command === 'sign-up' && email && password) {
    const { UserSub } = await client.send(
      new SignUpCommand({
        ClientId: userPool.clientId,
        Username: email,
        Password: password,
        UserAttributes: [{ Name: 'email', Value: email }],
      }),
    );
    console.log(`signed up ${email} (sub ${UserSub})`);
    // No email server locally: the pool hands the confirmation code to loopback callers.
    const codes = (await (
      await fetch(`${userPool.url}/_local/codes?username=${encodeURIComponent(email)}`)
    ).json()) as {
      codes?: Record<string, { code: string }>;
    };
    const code = codes.codes?.confirmSignUp?.code;
    if (!code) throw new Error(`no confirmation code found: ${JSON.stringify(codes)}`);
    await client.send(
      new ConfirmSignUpCommand({ ClientId: userPool.clientId, Username: email, ConfirmationCode: code }),
    );
    console.log('confirmed (PostConfirmation provisioned the database user)');
    await logIn(email, password);
  } else if (command === 'log-in' && email && password) {
    await logIn(email, password);
  } else if (command === 'token' && email && password) {
    const { AuthenticationResult } = await client.send(
      new InitiateAuthCommand({
        ClientId: userPool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    process.stdout.write(`${AuthenticationResult?.IdToken ?? ''}\n`);
  } else if (command === 'refresh' && email) {
    const { refreshToken } = JSON.parse(await readFile(tokensFile(email), 'utf8')) as {
      refreshToken: string;
    };
    const { AuthenticationResult } = await client.send(
      new InitiateAuthCommand({
        ClientId: userPool.clientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: refreshToken },
      }),
    );
    await show(email, AuthenticationResult);
  } else {
    console.error(
      'usage: cognito.ts sign-up <email> <password> | log-in <email> <password> | refresh <email>',
    );
    process.exitCode = 2;
  }
} catch (error) {
  const e = error as { name?: string; message?: string };
  console.error(`refused: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`);
  process.exitCode = 1;
}
