import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  ConfirmSignUpCommand,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import type { JwksCache } from 'aws-jwt-verify/jwk';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/identity/token-verifier.js';
import { startLocalStack, type LocalStack } from '../../src/local/stack.js';
import { NOTES_TEMPLATE } from '../support/stack.js';
import { startCluster, type TestCluster } from '../support/cluster.js';

// The whole identity path as an application sees it: the official AWS SDK against the local
// user pool, whose triggers are the package's Cognito handlers, over a real Postgres.
describe('local stack: Cognito user pool + triggers + database', () => {
  let cluster: TestCluster;
  let home: string;
  let stack: LocalStack;
  let client: CognitoIdentityProviderClient;
  const password = 'Passw0rd!x';

  const code = async (username: string) => {
    const body = (await (
      await fetch(`${stack.userPool.url}/_local/codes?username=${encodeURIComponent(username)}`)
    ).json()) as {
      codes: Record<string, { code: string }>;
    };
    return body.codes.confirmSignUp?.code as string;
  };
  const logIn = (email: string, pw = password) =>
    client.send(
      new InitiateAuthCommand({
        ClientId: stack.userPool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: pw },
      }),
    );
  const refresh = (token: string) =>
    client.send(
      new InitiateAuthCommand({
        ClientId: stack.userPool.clientId,
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        AuthParameters: { REFRESH_TOKEN: token },
      }),
    );
  const rejection = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return error as { name: string; message: string };
    }
    throw new Error('expected a rejection');
  };

  beforeAll(async () => {
    cluster = await startCluster();
    home = await mkdtemp(join(tmpdir(), 'pgc-stack-'));
    await chmod(home, 0o711);
    stack = await startLocalStack({ home, databaseUrl: cluster.url, port: 0 });
    await stack.cognition.migrateTemplates({ dir: NOTES_TEMPLATE });
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    client = new CognitoIdentityProviderClient({
      endpoint: stack.userPool.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await stack?.close();
    await cluster?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('invite → SignUp → ConfirmSignUp → InitiateAuth → claims → database user → suspend blocks login and refresh → reactivate', async () => {
    await stack.cognition.users.invite({ email: 'alice@acme.test', tenant: 'acme', role: 'admin' });
    const signUp = await client.send(
      new SignUpCommand({
        ClientId: stack.userPool.clientId,
        Username: 'Alice@Acme.test',
        Password: password,
        UserAttributes: [{ Name: 'email', Value: 'Alice@Acme.test' }],
      }),
    );
    expect(signUp.UserConfirmed).toBe(false);
    await client.send(
      new ConfirmSignUpCommand({
        ClientId: stack.userPool.clientId,
        Username: 'alice@acme.test',
        ConfirmationCode: await code('alice@acme.test'),
      }),
    );
    const user = await stack.cognition.users.require('alice@acme.test');
    expect(user).toMatchObject({ status: 'active', idpSubject: signUp.UserSub });
    expect(user.dbUsername).toMatch(/^u_/);

    const login = await logIn('alice@acme.test');
    const tokens = login.AuthenticationResult;
    expect(tokens?.IdToken && tokens.AccessToken && tokens.RefreshToken).toBeTruthy();

    // AWS's own verifier, against the local JWKS (loaded by hand: aws-jwt-verify fetches only https).
    const jwks = (await (await fetch(stack.userPool.jwksUri)).json()) as Parameters<JwksCache['addJwks']>[1];
    const awsVerifier = JwtRsaVerifier.create({
      issuer: stack.userPool.issuer,
      audience: stack.userPool.clientId,
      jwksUri: stack.userPool.jwksUri,
      customJwtCheck: ({ payload }) => {
        if (payload.token_use !== 'id') throw new Error('not an ID token');
      },
    });
    awsVerifier.cacheJwks(jwks as never);
    const idClaims = await awsVerifier.verify(tokens?.IdToken as string);
    expect(idClaims).toMatchObject({
      sub: signUp.UserSub,
      tenant_slug: 'acme',
      tenant_role: 'admin',
      'cognito:groups': ['admin'],
      token_use: 'id',
    });
    expect(idClaims.tenant_id).toBe(user.tenantId);

    // Our verifier, fetching the JWKS itself.
    const ours = createTokenVerifier({ issuer: stack.userPool.issuer, clientId: stack.userPool.clientId });
    const access = await ours.verify(tokens?.AccessToken as string);
    expect(access).toMatchObject({ tokenUse: 'access', sub: signUp.UserSub, groups: ['admin'] });

    // The database user behind the login is the one that runs the SQL.
    const { rows } = await stack.cognition.runAs(
      { subject: signUp.UserSub as string },
      'select current_user as me',
    );
    expect(rows).toEqual([{ me: user.dbUsername }]);

    await stack.cognition.suspendUser(user.id);
    const refused = await rejection(logIn('alice@acme.test'));
    expect(refused.name).toBe('UserLambdaValidationException');
    expect(refused.message).toBe(
      'PreAuthentication failed with error ERR_USER_INACTIVE: this user is suspended.',
    );
    const refreshRefused = await rejection(refresh(tokens?.RefreshToken as string));
    expect(refreshRefused.name).toBe('UserLambdaValidationException');
    expect(refreshRefused.message).toMatch(/^PreTokenGeneration failed with error ERR_USER_INACTIVE/);

    await stack.cognition.users.reactivate(user.id);
    expect((await logIn('alice@acme.test')).AuthenticationResult?.IdToken).toBeTruthy();
    expect((await refresh(tokens?.RefreshToken as string)).AuthenticationResult?.AccessToken).toBeTruthy();
  });

  it('refuses an uninvited sign-up with UserLambdaValidationException and creates nothing', async () => {
    const before = await cluster.admin.query('select count(*)::int as n from cognition.users');
    const error = await rejection(
      client.send(
        new SignUpCommand({
          ClientId: stack.userPool.clientId,
          Username: 'mallory@evil.test',
          Password: password,
          UserAttributes: [{ Name: 'email', Value: 'mallory@evil.test' }],
        }),
      ),
    );
    expect(error.name).toBe('UserLambdaValidationException');
    expect(error.message).toBe(
      'PreSignUp failed with error ERR_NOT_INVITED: this email has not been invited.',
    );
    const after = await cluster.admin.query('select count(*)::int as n from cognition.users');
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const body = await fetch(`${stack.userPool.url}/_local/codes?username=mallory@evil.test`);
    expect(body.status).toBe(404);
  });

  it('provisions an admin-created user on the first token, through NEW_PASSWORD_REQUIRED', async () => {
    await stack.cognition.users.invite({ email: 'bob@acme.test', tenant: 'acme', role: 'user' });
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: stack.userPool.poolId,
        Username: 'bob@acme.test',
        TemporaryPassword: 'Temp0rary!x',
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: 'bob@acme.test' },
          { Name: 'email_verified', Value: 'true' },
        ],
      }),
    );
    const challenge = await logIn('bob@acme.test', 'Temp0rary!x');
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    const done = await client.send(
      new RespondToAuthChallengeCommand({
        ClientId: stack.userPool.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: 'bob@acme.test', NEW_PASSWORD: password },
      }),
    );
    expect(done.AuthenticationResult?.IdToken).toBeTruthy();
    const bob = await stack.cognition.users.require('bob@acme.test');
    expect(bob.status).toBe('active');
    expect(bob.dbUsername).toMatch(/^u_/);
  });

  it('refuses to let an admin-created account claim another invitation through NEW_PASSWORD_REQUIRED', async () => {
    await stack.cognition.users.invite({ email: 'mallory@acme.test', tenant: 'acme', role: 'user' });
    await stack.cognition.users.invite({ email: 'root@app.test', role: 'application_admin' });
    await client.send(
      new AdminCreateUserCommand({
        UserPoolId: stack.userPool.poolId,
        Username: 'mallory@acme.test',
        TemporaryPassword: 'Temp0rary!x',
        MessageAction: 'SUPPRESS',
        UserAttributes: [{ Name: 'email', Value: 'mallory@acme.test' }],
      }),
    );
    const challenge = await logIn('mallory@acme.test', 'Temp0rary!x');
    const error = await rejection(
      client.send(
        new RespondToAuthChallengeCommand({
          ClientId: stack.userPool.clientId,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: challenge.Session,
          ChallengeResponses: {
            USERNAME: 'mallory@acme.test',
            NEW_PASSWORD: password,
            'userAttributes.email': 'root@app.test',
          },
        }),
      ),
    );
    expect(error.name).toBe('InvalidParameterException');
    // Without the email verified, even her own account gets no tokens and binds nothing.
    const own = await rejection(
      client.send(
        new RespondToAuthChallengeCommand({
          ClientId: stack.userPool.clientId,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: challenge.Session,
          ChallengeResponses: { USERNAME: 'mallory@acme.test', NEW_PASSWORD: password },
        }),
      ),
    );
    expect(own.message).toMatch(/ERR_EMAIL_NOT_VERIFIED/);
    const root = await stack.cognition.users.require('root@app.test');
    expect(root).toMatchObject({ status: 'invited', idpSubject: null });
  });
});
