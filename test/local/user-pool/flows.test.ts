import {
  AdminAddUserToGroupCommand,
  AdminDisableUserCommand,
  AdminEnableUserCommand,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  ForgotPasswordCommand,
  GetUserCommand,
  GlobalSignOutCommand,
  ResendConfirmationCodeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codesOf,
  decodeHeader,
  decodePayload,
  expectError,
  login,
  PASSWORD,
  refresh,
  signUpAndConfirm,
  startTestPool,
  thrown,
  uniqueEmail,
  verifiersFor,
  type TestPool,
} from './support.js';

let t: TestPool;
let verifiers: Awaited<ReturnType<typeof verifiersFor>>;

beforeAll(async () => {
  t = await startTestPool();
  verifiers = await verifiersFor(t.pool);
});

afterAll(async () => {
  await t.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('sign-up, confirmation and sign-in', () => {
  it('signs up, confirms with the code from /_local/codes and signs in with verifiable tokens', async () => {
    const email = uniqueEmail('Mary');
    const signUp = await t.client.send(
      new SignUpCommand({
        ClientId: t.pool.clientId,
        Username: email,
        Password: PASSWORD,
        UserAttributes: [{ Name: 'name', Value: 'Mary' }],
      }),
    );
    expect(signUp.UserConfirmed).toBe(false);
    expect(signUp.UserSub).toMatch(UUID);
    expect(signUp.CodeDeliveryDetails).toEqual({
      Destination: `${email[0]}***@e***`,
      DeliveryMedium: 'EMAIL',
      AttributeName: 'email',
    });

    // Not confirmed yet: no sign-in.
    await expectError(login(t, email), 'UserNotConfirmedException');

    const { codes } = await codesOf(t.pool, email);
    const code = codes.confirmSignUp?.code ?? '';
    expect(code).toMatch(/^\d{6}$/);
    expect(t.logs.some((line) => line.includes(email) && line.includes(code))).toBe(true);
    const lifetime =
      Date.parse(codes.confirmSignUp?.expiresAt ?? '') - Date.parse(codes.confirmSignUp?.createdAt ?? '');
    expect(lifetime).toBe(24 * 3_600_000);
    expect(codes.confirmSignUp?.expired).toBe(false);

    await t.client.send(
      new ConfirmSignUpCommand({ ClientId: t.pool.clientId, Username: email, ConfirmationCode: code }),
    );
    // Usernames are case-insensitive.
    const tokens = await login(t, email.toUpperCase());
    expect(tokens.TokenType).toBe('Bearer');
    expect(tokens.ExpiresIn).toBe(3600);
    expect(tokens.RefreshToken).toMatch(/^[\w-]{64,}$/);
    expect(tokens.RefreshToken?.split('.').length).toBe(1); // opaque, not a JWT

    const id = await verifiers.id.verify(tokens.IdToken ?? '');
    const access = await verifiers.access.verify(tokens.AccessToken ?? '');
    const now = Math.floor(Date.now() / 1000);
    expect(id).toMatchObject({
      sub: signUp.UserSub,
      'cognito:username': email,
      email,
      email_verified: true,
      name: 'Mary',
      token_use: 'id',
      aud: t.pool.clientId,
      iss: t.pool.issuer,
    });
    expect(id['cognito:groups']).toBeUndefined();
    expect((id.exp ?? 0) - (id.iat ?? 0)).toBe(3600);
    expect(Math.abs(Number(id.auth_time) - now)).toBeLessThan(5);
    expect(access).toMatchObject({
      sub: signUp.UserSub,
      username: email,
      token_use: 'access',
      client_id: t.pool.clientId,
      scope: 'aws.cognito.signin.user.admin',
      version: 2,
      iss: t.pool.issuer,
      auth_time: id.auth_time,
    });
    expect(access['aud']).toBeUndefined();
    expect(access['email']).toBeUndefined();
    expect(id['origin_jti']).toBe(access['origin_jti']);
    expect(id['event_id']).toBe(access['event_id']);
    expect(id['jti']).not.toBe(access['jti']);
    for (const claim of ['jti', 'origin_jti', 'event_id']) expect(id[claim]).toMatch(UUID);
    expect(t.pool.issuer).toBe(`${t.pool.url}/${t.pool.poolId}`);

    // Each kind of token has its own key; one never passes for the other.
    expect(decodeHeader(tokens.IdToken)).toMatchObject({ alg: 'RS256' });
    expect(decodeHeader(tokens.IdToken)['kid']).not.toBe(decodeHeader(tokens.AccessToken)['kid']);
    await expect(verifiers.id.verify(tokens.AccessToken ?? '')).rejects.toThrow();
    await expect(verifiers.access.verify(tokens.IdToken ?? '')).rejects.toThrow();
    await expectError(
      t.client.send(new GetUserCommand({ AccessToken: tokens.IdToken })),
      'NotAuthorizedException',
      'Invalid Access Token',
    );

    const user = await t.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken }));
    expect(user.Username).toBe(email);
    expect(user.UserAttributes).toEqual(
      expect.arrayContaining([
        { Name: 'sub', Value: signUp.UserSub },
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'name', Value: 'Mary' },
      ]),
    );
  });

  it('signs in with a username that is not an email, or with the email alias', async () => {
    const email = uniqueEmail('alias');
    const username = `bob${Date.now()}`;
    await expectError(
      t.client.send(new SignUpCommand({ ClientId: t.pool.clientId, Username: username, Password: PASSWORD })),
      'InvalidParameterException',
      /email: The attribute is required/,
    );
    await signUpAndConfirm(t, username, PASSWORD, [{ Name: 'email', Value: email }]);
    const byName = decodePayload((await login(t, username)).IdToken);
    const byEmail = decodePayload((await login(t, email.toUpperCase())).IdToken);
    expect(byName['cognito:username']).toBe(username);
    expect(byEmail['cognito:username']).toBe(username);
    expect(byEmail['email']).toBe(email);
  });

  it('resends a confirmation code, replacing the old one', async () => {
    const email = uniqueEmail();
    await t.client.send(
      new SignUpCommand({ ClientId: t.pool.clientId, Username: email, Password: PASSWORD }),
    );
    const first = (await codesOf(t.pool, email)).codes.confirmSignUp?.code;
    let second = first;
    // A new random code can equal the old one (one time in a million); ask again then.
    while (second === first) {
      const resent = await t.client.send(
        new ResendConfirmationCodeCommand({ ClientId: t.pool.clientId, Username: email }),
      );
      expect(resent.CodeDeliveryDetails?.DeliveryMedium).toBe('EMAIL');
      second = (await codesOf(t.pool, email)).codes.confirmSignUp?.code;
    }
    await expectError(
      t.client.send(
        new ConfirmSignUpCommand({ ClientId: t.pool.clientId, Username: email, ConfirmationCode: first }),
      ),
      'CodeMismatchException',
    );
    await t.client.send(
      new ConfirmSignUpCommand({ ClientId: t.pool.clientId, Username: email, ConfirmationCode: second }),
    );
    await expectError(
      t.client.send(new ResendConfirmationCodeCommand({ ClientId: t.pool.clientId, Username: email })),
      'InvalidParameterException',
      'User is already confirmed.',
    );
  });

  it('puts the groups, by precedence, in both tokens', async () => {
    const email = await signUpAndConfirm(t);
    const suffix = Date.now().toString(36);
    await t.client.send(
      new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: `b-${suffix}`, Precedence: 1 }),
    );
    await t.client.send(
      new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: `a-${suffix}`, Precedence: 5 }),
    );
    for (const group of [`a-${suffix}`, `b-${suffix}`]) {
      await t.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: t.pool.poolId, Username: email, GroupName: group }),
      );
    }
    const tokens = await login(t, email);
    expect(decodePayload(tokens.IdToken)['cognito:groups']).toEqual([`b-${suffix}`, `a-${suffix}`]);
    expect(decodePayload(tokens.AccessToken)['cognito:groups']).toEqual([`b-${suffix}`, `a-${suffix}`]);
  });
});

describe('refresh tokens', () => {
  it('refresh keeps origin_jti and auth_time, issues no new refresh token, and works with both flow names', async () => {
    const email = await signUpAndConfirm(t);
    const tokens = await login(t, email);
    const first = decodePayload(tokens.IdToken);
    t.advance(10_000);
    for (const flow of ['REFRESH_TOKEN_AUTH', 'REFRESH_TOKEN']) {
      const renewed = await refresh(t, tokens.RefreshToken ?? '', flow);
      expect(renewed.RefreshToken).toBeUndefined();
      expect(renewed.IdToken).toBeDefined();
      const id = decodePayload(renewed.IdToken);
      const access = decodePayload(renewed.AccessToken);
      expect(id['origin_jti']).toBe(first['origin_jti']);
      expect(access['origin_jti']).toBe(first['origin_jti']);
      expect(id['auth_time']).toBe(first['auth_time']);
      expect(access['auth_time']).toBe(first['auth_time']);
      expect(id['iat']).toBeGreaterThanOrEqual((first['iat'] as number) + 10);
      expect(id['jti']).not.toBe(first['jti']);
      await verifiers.id.verify(renewed.IdToken ?? '');
      const user = await t.client.send(new GetUserCommand({ AccessToken: renewed.AccessToken }));
      expect(user.Username).toBe(email);
    }
  });

  it('refuses an unknown refresh token', async () => {
    await expectError(refresh(t, 'not-a-token'), 'NotAuthorizedException', 'Invalid Refresh Token');
  });

  it('GlobalSignOut revokes the refresh tokens and the access tokens issued from them', async () => {
    const email = await signUpAndConfirm(t);
    const one = await login(t, email);
    const two = await login(t, email);
    const renewed = await refresh(t, one.RefreshToken ?? '');
    await t.client.send(new GlobalSignOutCommand({ AccessToken: two.AccessToken }));
    for (const tokens of [one, two]) {
      await expectError(
        refresh(t, tokens.RefreshToken ?? ''),
        'NotAuthorizedException',
        'Refresh Token has been revoked',
      );
    }
    for (const accessToken of [one.AccessToken, two.AccessToken, renewed.AccessToken]) {
      await expectError(
        t.client.send(new GetUserCommand({ AccessToken: accessToken })),
        'NotAuthorizedException',
        'Access Token has been revoked',
      );
    }
    // A new sign-in works again.
    const three = await login(t, email);
    expect((await t.client.send(new GetUserCommand({ AccessToken: three.AccessToken }))).Username).toBe(
      email,
    );
  });

  it('GetUser refuses expired access tokens; expired refresh tokens are refused', async () => {
    const short = await startTestPool({ tokenTtlSeconds: { access: 60, id: 60, refresh: 120 } });
    try {
      const email = await signUpAndConfirm(short);
      const tokens = await login(short, email);
      expect(tokens.ExpiresIn).toBe(60);
      expect(
        (await short.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))).Username,
      ).toBe(email);
      short.advance(61_000);
      await expectError(
        short.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken })),
        'NotAuthorizedException',
        'Access Token has expired',
      );
      expect((await refresh(short, tokens.RefreshToken ?? '')).AccessToken).toBeDefined();
      short.advance(60_000);
      await expectError(
        refresh(short, tokens.RefreshToken ?? ''),
        'NotAuthorizedException',
        'Refresh Token has expired',
      );
    } finally {
      await short.close();
    }
  });

  it('GetUser refuses a token signed by another key, or altered', async () => {
    const email = await signUpAndConfirm(t);
    const tokens = await login(t, email);
    const other = await startTestPool();
    try {
      const foreignEmail = await signUpAndConfirm(other);
      const foreign = await login(other, foreignEmail);
      await expectError(
        t.client.send(new GetUserCommand({ AccessToken: foreign.AccessToken })),
        'NotAuthorizedException',
        'Invalid Access Token',
      );
    } finally {
      await other.close();
    }
    const [header, , signature] = (tokens.AccessToken ?? '').split('.');
    const claims = { ...decodePayload(tokens.AccessToken), username: 'someone-else' };
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    await expectError(
      t.client.send(new GetUserCommand({ AccessToken: forged })),
      'NotAuthorizedException',
      'Invalid Access Token',
    );
  });
});

describe('disabled users', () => {
  it('cannot sign in or refresh; enabled again, they can sign in', async () => {
    const email = await signUpAndConfirm(t);
    const tokens = await login(t, email);
    await t.client.send(new AdminDisableUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    await expectError(login(t, email), 'NotAuthorizedException', 'User is disabled.');
    // The right password is still needed to learn that.
    await expectError(
      login(t, email, 'Wrong-passw0rd'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    await expectError(refresh(t, tokens.RefreshToken ?? ''), 'NotAuthorizedException');
    await expectError(
      t.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken })),
      'NotAuthorizedException',
    );

    await t.client.send(new AdminEnableUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    // Disabling revoked the tokens for good: enabling does not bring them back.
    await expectError(
      refresh(t, tokens.RefreshToken ?? ''),
      'NotAuthorizedException',
      'Refresh Token has been revoked',
    );
    await expectError(
      t.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken })),
      'NotAuthorizedException',
      'Access Token has been revoked',
    );
    const again = await login(t, email);
    expect((await t.client.send(new GetUserCommand({ AccessToken: again.AccessToken }))).Username).toBe(
      email,
    );
    expect((await refresh(t, again.RefreshToken ?? '')).AccessToken).toBeDefined();
  });
});

describe('forgot password', () => {
  it('resets the password with the code; the old password stops working', async () => {
    const email = await signUpAndConfirm(t);
    const sent = await t.client.send(
      new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: email }),
    );
    expect(sent.CodeDeliveryDetails).toMatchObject({ DeliveryMedium: 'EMAIL', AttributeName: 'email' });
    const reset = (await codesOf(t.pool, email)).codes.forgotPassword;
    expect(reset?.code).toMatch(/^\d{6}$/);
    expect(Date.parse(reset?.expiresAt ?? '') - Date.parse(reset?.createdAt ?? '')).toBe(3_600_000);

    const wrong = reset?.code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) {
      // A few wrong codes fail, and do not lock the right one out.
      await expectError(
        t.client.send(
          new ConfirmForgotPasswordCommand({
            ClientId: t.pool.clientId,
            Username: email,
            ConfirmationCode: wrong,
            Password: 'New-passw0rd',
          }),
        ),
        'CodeMismatchException',
        'Invalid verification code provided, please try again.',
      );
    }
    await expectError(
      t.client.send(
        new ConfirmForgotPasswordCommand({
          ClientId: t.pool.clientId,
          Username: email,
          ConfirmationCode: reset?.code,
          Password: 'weak',
        }),
      ),
      'InvalidPasswordException',
    );
    await t.client.send(
      new ConfirmForgotPasswordCommand({
        ClientId: t.pool.clientId,
        Username: email,
        ConfirmationCode: reset?.code,
        Password: 'New-passw0rd',
      }),
    );
    await expectError(login(t, email), 'NotAuthorizedException', 'Incorrect username or password.');
    expect((await login(t, email, 'New-passw0rd')).AccessToken).toBeDefined();
    // The code is used up.
    await expectError(
      t.client.send(
        new ConfirmForgotPasswordCommand({
          ClientId: t.pool.clientId,
          Username: email,
          ConfirmationCode: reset?.code,
          Password: 'Other-passw0rd',
        }),
      ),
      'CodeMismatchException',
    );
  });

  it('spends a code after five wrong guesses, so six digits cannot be brute-forced', async () => {
    const email = await signUpAndConfirm(t);
    await t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: email }));
    const code = (await codesOf(t.pool, email)).codes.forgotPassword?.code as string;
    const wrong = code === '000000' ? '111111' : '000000';
    const attempt = (confirmationCode: string) =>
      t.client.send(
        new ConfirmForgotPasswordCommand({
          ClientId: t.pool.clientId,
          Username: email,
          ConfirmationCode: confirmationCode,
          Password: 'New-passw0rd',
        }),
      );
    for (let i = 0; i < 5; i++) await expectError(attempt(wrong), 'CodeMismatchException');
    await expectError(attempt(code), 'TooManyFailedAttemptsException');
    // A new code works again.
    await t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: email }));
    const fresh = (await codesOf(t.pool, email)).codes.forgotPassword?.code as string;
    await attempt(fresh);
    expect((await login(t, email, 'New-passw0rd')).AccessToken).toBeDefined();
  });

  it('refuses an expired reset code, and unverified users', async () => {
    const email = await signUpAndConfirm(t);
    await t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: email }));
    const code = (await codesOf(t.pool, email)).codes.forgotPassword?.code;
    t.advance(3_600_000 + 1000);
    expect((await codesOf(t.pool, email)).codes.forgotPassword?.expired).toBe(true);
    await expectError(
      t.client.send(
        new ConfirmForgotPasswordCommand({
          ClientId: t.pool.clientId,
          Username: email,
          ConfirmationCode: code,
          Password: 'New-passw0rd',
        }),
      ),
      'ExpiredCodeException',
    );
    expect((await login(t, email)).AccessToken).toBeDefined();

    const unconfirmed = uniqueEmail();
    await t.client.send(
      new SignUpCommand({ ClientId: t.pool.clientId, Username: unconfirmed, Password: PASSWORD }),
    );
    const error = await thrown(
      t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: unconfirmed })),
    );
    expect(error.name).toBe('InvalidParameterException');
  });

  it('expires confirmation codes after 24 hours', async () => {
    const email = uniqueEmail();
    await t.client.send(
      new SignUpCommand({ ClientId: t.pool.clientId, Username: email, Password: PASSWORD }),
    );
    const code = (await codesOf(t.pool, email)).codes.confirmSignUp?.code;
    t.advance(24 * 3_600_000 + 1000);
    await expectError(
      t.client.send(
        new ConfirmSignUpCommand({ ClientId: t.pool.clientId, Username: email, ConfirmationCode: code }),
      ),
      'ExpiredCodeException',
      'Invalid code provided, please request a code again.',
    );
    await expectError(login(t, email), 'UserNotConfirmedException');
  });
});
