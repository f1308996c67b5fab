import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
  type AuthenticationResultType,
} from '@aws-sdk/client-cognito-identity-provider';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startUserPool, type UserPool, type UserPoolOptions } from '../../../src/local/user-pool/index.js';

export const PASSWORD = 'Passw0rd-long';
export const credentials = { accessKeyId: 'x', secretAccessKey: 'x' };

export interface TestPool {
  pool: UserPool;
  client: CognitoIdentityProviderClient;
  dir: string;
  logs: string[];
  /** Moves the pool's clock. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'user-pool-'));
}

export async function startTestPool(options: Partial<UserPoolOptions> = {}): Promise<TestPool> {
  const dir = options.dir ?? (await tempDir());
  const logs: string[] = [];
  let offset = 0;
  const pool = await startUserPool({
    log: (line) => logs.push(line),
    clock: () => Date.now() + offset,
    ...options,
    dir,
  });
  const client = new CognitoIdentityProviderClient({ region: 'us-east-1', endpoint: pool.url, credentials });
  return {
    pool,
    client,
    dir,
    logs,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      client.destroy();
      await pool.close();
      if (options.dir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The error a promise rejects with (fails if it does not). */
export async function thrown(
  action: Promise<unknown>,
): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await action;
  } catch (error) {
    return error as Error & { name: string };
  }
  throw new Error('expected an error');
}

export async function expectError(
  action: Promise<unknown>,
  name: string,
  message?: string | RegExp,
): Promise<void> {
  const error = await thrown(action);
  expect(error.name).toBe(name);
  expect(error.$metadata?.httpStatusCode).toBe(400);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else if (message) expect(error.message).toMatch(message);
}

let counter = 0;
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${counter}-${Date.now().toString(36)}@example.com`;
}

export async function codesOf(pool: UserPool, username: string) {
  const response = await fetch(`${pool.url}/_local/codes?username=${encodeURIComponent(username)}`);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    username: string;
    codes: Partial<
      Record<
        'confirmSignUp' | 'forgotPassword',
        { code: string; createdAt: string; expiresAt: string; expired: boolean }
      >
    >;
  };
}

export async function signUpAndConfirm(
  t: TestPool,
  email = uniqueEmail(),
  password = PASSWORD,
  attributes: { Name: string; Value: string }[] = [],
): Promise<string> {
  const { client, pool } = t;
  await client.send(
    new SignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      Password: password,
      UserAttributes: attributes,
    }),
  );
  const { codes } = await codesOf(pool, email);
  await client.send(
    new ConfirmSignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      ConfirmationCode: codes.confirmSignUp?.code,
    }),
  );
  return email;
}

export async function login(
  t: TestPool,
  username: string,
  password = PASSWORD,
): Promise<AuthenticationResultType> {
  const result = await t.client.send(
    new InitiateAuthCommand({
      ClientId: t.pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: username, PASSWORD: password },
    }),
  );
  expect(result.AuthenticationResult, 'tokens').toBeDefined();
  return result.AuthenticationResult as AuthenticationResultType;
}

export async function refresh(t: TestPool, refreshToken: string, flow = 'REFRESH_TOKEN_AUTH') {
  const result = await t.client.send(
    new InitiateAuthCommand({
      ClientId: t.pool.clientId,
      AuthFlow: flow as 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    }),
  );
  return result.AuthenticationResult as AuthenticationResultType;
}

/** An admin-created user who has set their own password (CONFIRMED). */
export async function createAndActivate(t: TestPool, email = uniqueEmail('invited'), password = PASSWORD) {
  const { client, pool } = t;
  await client.send(
    new AdminCreateUserCommand({
      UserPoolId: pool.poolId,
      Username: email,
      TemporaryPassword: 'Temp0rary-pass',
      MessageAction: 'SUPPRESS',
      UserAttributes: [{ Name: 'email_verified', Value: 'true' }],
    }),
  );
  const challenge = await client.send(
    new InitiateAuthCommand({
      ClientId: pool.clientId,
      AuthFlow: 'USER_PASSWORD_AUTH',
      AuthParameters: { USERNAME: email, PASSWORD: 'Temp0rary-pass' },
    }),
  );
  const result = await client.send(
    new RespondToAuthChallengeCommand({
      ClientId: pool.clientId,
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: challenge.Session,
      ChallengeResponses: { USERNAME: email, NEW_PASSWORD: password },
    }),
  );
  return { email, tokens: result.AuthenticationResult as AuthenticationResultType };
}

/** aws-jwt-verify verifiers for the pool's tokens (it fetches JWKS over https only, so they are loaded here). */
export async function verifiersFor(pool: UserPool) {
  const jwks = (await (await fetch(pool.jwksUri)).json()) as Parameters<
    ReturnType<typeof idVerifierOf>['cacheJwks']
  >[0];
  const id = idVerifierOf(pool);
  const access = JwtRsaVerifier.create({
    issuer: pool.issuer,
    audience: null,
    jwksUri: pool.jwksUri,
    customJwtCheck: ({ payload }) => {
      if (payload['token_use'] !== 'access') throw new Error('not an access token');
      if (payload['client_id'] !== pool.clientId) throw new Error('wrong client_id');
    },
  });
  id.cacheJwks(jwks);
  access.cacheJwks(jwks);
  return { id, access };
}

function idVerifierOf(pool: UserPool) {
  return JwtRsaVerifier.create({
    issuer: pool.issuer,
    audience: pool.clientId,
    jwksUri: pool.jwksUri,
    customJwtCheck: ({ payload }) => {
      if (payload['token_use'] !== 'id') throw new Error('not an ID token');
    },
  });
}

export function decodePayload(token: string | undefined): Record<string, unknown> {
  const part = (token ?? '').split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function decodeHeader(token: string | undefined): Record<string, unknown> {
  const part = (token ?? '').split('.')[0] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
