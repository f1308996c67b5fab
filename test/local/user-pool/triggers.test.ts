import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDisableUserCommand,
  AdminGetUserCommand,
  ConfirmForgotPasswordCommand,
  ConfirmSignUpCommand,
  CreateGroupCommand,
  ForgotPasswordCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CognitoTriggerEvent } from '../../../src/local/user-pool/index.js';
import {
  codesOf,
  decodePayload,
  expectError,
  login,
  PASSWORD,
  refresh,
  signUpAndConfirm,
  startTestPool,
  uniqueEmail,
  verifiersFor,
  type TestPool,
} from './support.js';

const FIXTURES = fileURLToPath(new URL('../../../../shared/fixtures/cognito/', import.meta.url));

async function fixture(name: string): Promise<CognitoTriggerEvent & { request: Record<string, unknown> }> {
  return JSON.parse(await readFile(join(FIXTURES, name), 'utf8')) as CognitoTriggerEvent & {
    request: Record<string, unknown>;
  };
}

type Event = CognitoTriggerEvent & {
  request: Record<string, unknown> & { userAttributes: Record<string, unknown> };
  response: Record<string, unknown>;
};
type Behaviour = (event: Event) => Promise<unknown>;

/**
 * A pool whose trigger function records every event and lets each test decide, per
 * triggerSource prefix, what the function does.
 */
function triggerHarness() {
  const events: Event[] = [];
  const behaviours = new Map<string, Behaviour>();
  return {
    events,
    behaviours,
    of: (source: string) => events.filter((event) => event.triggerSource === source),
    triggers: async (event: CognitoTriggerEvent) => {
      const recorded = event as Event;
      events.push(structuredClone(recorded));
      for (const [prefix, behaviour] of behaviours) {
        if (recorded.triggerSource.startsWith(prefix)) return behaviour(recorded);
      }
      return recorded;
    },
    reset: () => {
      events.length = 0;
      behaviours.clear();
    },
  };
}

function keys(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

function expectStringValues(attributes: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(attributes)) expect(typeof value, name).toBe('string');
}

async function sessionsInFile(t: TestPool): Promise<number> {
  const file = JSON.parse(await readFile(join(t.dir, 'pool.json'), 'utf8')) as { sessions: unknown[] };
  return file.sessions.length;
}

describe('trigger events (version 2 pre token generation)', () => {
  const harness = triggerHarness();
  let t: TestPool;
  beforeAll(async () => {
    t = await startTestPool({ triggers: harness.triggers });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => harness.reset());

  function expectEnvelope(
    event: Event,
    fixtureEvent: CognitoTriggerEvent,
    clientId: string,
    userName: string,
  ) {
    expect(keys(event)).toEqual(keys(fixtureEvent));
    expect(keys(event.callerContext)).toEqual(keys(fixtureEvent.callerContext));
    expect(event.callerContext.clientId).toBe(clientId);
    expect(event.callerContext.awsSdkVersion).toMatch(/^aws-sdk-js-3\.\d+/);
    expect(event.region).toBe('us-east-1');
    expect(event.userPoolId).toBe(t.pool.poolId);
    expect(event.userName).toBe(userName);
    expectStringValues(event.request.userAttributes);
  }

  it('sends sign-up, confirmation, authentication and token events shaped like the fixtures', async () => {
    const email = uniqueEmail('shape');
    const signUp = await t.client.send(
      new SignUpCommand({
        ClientId: t.pool.clientId,
        Username: email,
        Password: PASSWORD,
        UserAttributes: [
          { Name: 'name', Value: 'Mary' },
          { Name: 'custom:tenant_id', Value: 'tenant-42' },
        ],
        ValidationData: [{ Name: 'inviteCode', Value: 'WELCOME-2024' }],
        ClientMetadata: { IpAddress: '192.0.2.252' },
      }),
    );
    const [preSignUp] = harness.of('PreSignUp_SignUp');
    const preSignUpFixture = await fixture('pre-signup.json');
    expect(preSignUp).toBeDefined();
    if (!preSignUp) return;
    expectEnvelope(preSignUp, preSignUpFixture, t.pool.clientId, email);
    expect(preSignUp.version).toBe('1');
    expect(keys(preSignUp.request)).toEqual(keys(preSignUpFixture.request));
    expect(preSignUp.request).toEqual({
      userAttributes: { email, name: 'Mary', 'custom:tenant_id': 'tenant-42' },
      validationData: { inviteCode: 'WELCOME-2024' },
      clientMetadata: { IpAddress: '192.0.2.252' },
    });
    expect(preSignUp.response).toEqual({
      autoConfirmUser: false,
      autoVerifyEmail: false,
      autoVerifyPhone: false,
    });

    const code = (await codesOf(t.pool, email)).codes.confirmSignUp?.code;
    await t.client.send(
      new ConfirmSignUpCommand({
        ClientId: t.pool.clientId,
        Username: email,
        ConfirmationCode: code,
        ClientMetadata: { signupSource: 'mobile-app' },
      }),
    );
    const [postConfirmation] = harness.of('PostConfirmation_ConfirmSignUp');
    const postConfirmationFixture = await fixture('post-confirmation.json');
    expect(postConfirmation).toBeDefined();
    if (!postConfirmation) return;
    expectEnvelope(postConfirmation, postConfirmationFixture, t.pool.clientId, email);
    expect(keys(postConfirmation.request)).toEqual(keys(postConfirmationFixture.request));
    expect(postConfirmation.request.userAttributes).toEqual({
      sub: signUp.UserSub,
      email,
      email_verified: 'true',
      name: 'Mary',
      'custom:tenant_id': 'tenant-42',
      'cognito:user_status': 'CONFIRMED',
    });
    expect(postConfirmation.request['clientMetadata']).toEqual({ signupSource: 'mobile-app' });
    expect(postConfirmation.response).toEqual({});

    const signIn = await t.client.send(
      new InitiateAuthCommand({
        ClientId: t.pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD },
        ClientMetadata: { appVersion: '4.2.0' },
      }),
    );
    const [preAuthentication] = harness.of('PreAuthentication_Authentication');
    const preAuthenticationFixture = await fixture('pre-authentication.json');
    expect(preAuthentication).toBeDefined();
    if (!preAuthentication) return;
    expectEnvelope(preAuthentication, preAuthenticationFixture, t.pool.clientId, email);
    expect(keys(preAuthentication.request)).toEqual(keys(preAuthenticationFixture.request));
    expect(preAuthentication.request['validationData']).toEqual({ appVersion: '4.2.0' });
    expect(preAuthentication.request.userAttributes['cognito:user_status']).toBe('CONFIRMED');

    const [tokenGeneration] = harness.of('TokenGeneration_Authentication');
    const v2Fixture = await fixture('pre-token-generation-v2.json');
    expect(tokenGeneration).toBeDefined();
    if (!tokenGeneration) return;
    expectEnvelope(tokenGeneration, v2Fixture, t.pool.clientId, email);
    expect(tokenGeneration.version).toBe('2');
    // ClientMetadata of InitiateAuth does not reach pre token generation.
    expect(keys(tokenGeneration.request)).toEqual(
      keys(v2Fixture.request).filter((key) => key !== 'clientMetadata'),
    );
    expect(keys(tokenGeneration.request['groupConfiguration'])).toEqual(
      keys(v2Fixture.request['groupConfiguration']),
    );
    expect(tokenGeneration.request['groupConfiguration']).toEqual({
      groupsToOverride: [],
      iamRolesToOverride: [],
      preferredRole: null,
    });
    expect(tokenGeneration.request['scopes']).toEqual(['aws.cognito.signin.user.admin']);
    expect(tokenGeneration.request.userAttributes['sub']).toBe(signUp.UserSub);

    harness.reset();
    await refresh(t, signIn.AuthenticationResult?.RefreshToken ?? '');
    expect(harness.events.map((event) => event.triggerSource)).toEqual(['TokenGeneration_RefreshTokens']);

    harness.reset();
    await t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: email }));
    const reset = (await codesOf(t.pool, email)).codes.forgotPassword?.code;
    await t.client.send(
      new ConfirmForgotPasswordCommand({
        ClientId: t.pool.clientId,
        Username: email,
        ConfirmationCode: reset,
        Password: 'New-passw0rd',
        ClientMetadata: { resetReason: 'user-initiated' },
      }),
    );
    const [forgot] = harness.of('PostConfirmation_ConfirmForgotPassword');
    const forgotFixture = await fixture('post-confirmation-forgot-password.json');
    expect(forgot).toBeDefined();
    if (!forgot) return;
    expectEnvelope(forgot, forgotFixture, t.pool.clientId, email);
    expect(keys(forgot.request)).toEqual(keys(forgotFixture.request));
    expect(forgot.request['clientMetadata']).toEqual({ resetReason: 'user-initiated' });
  });

  it('sends the admin events: PreSignUp_AdminCreateUser and TokenGeneration_NewPasswordChallenge', async () => {
    const email = uniqueEmail('admin-shape');
    const group = `staff-${Date.now()}`;
    await t.client.send(new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: group }));
    await t.client.send(
      new AdminCreateUserCommand({
        UserPoolId: t.pool.poolId,
        Username: email,
        TemporaryPassword: 'Temp0rary-pass',
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email_verified', Value: 'true' },
          { Name: 'given_name', Value: 'John' },
        ],
        ValidationData: [{ Name: 'createdBy', Value: 'admin-console' }],
        ClientMetadata: { provisioningJob: 'bulk' },
      }),
    );
    const [preSignUp] = harness.of('PreSignUp_AdminCreateUser');
    const adminFixture = await fixture('pre-signup-admin-create.json');
    expect(preSignUp).toBeDefined();
    if (!preSignUp) return;
    expectEnvelope(preSignUp, adminFixture, 'CLIENT_ID_NOT_APPLICABLE', email);
    expect(keys(preSignUp.request)).toEqual(keys(adminFixture.request));
    expect(preSignUp.request.userAttributes).toEqual({ email, email_verified: 'true', given_name: 'John' });
    expect(preSignUp.request['validationData']).toEqual({ createdBy: 'admin-console' });
    expect(keys(preSignUp.response)).toEqual(keys(adminFixture.response));

    await t.client.send(
      new AdminAddUserToGroupCommand({ UserPoolId: t.pool.poolId, Username: email, GroupName: group }),
    );
    const challenge = await t.client.send(
      new InitiateAuthCommand({
        ClientId: t.pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: 'Temp0rary-pass' },
      }),
    );
    expect(harness.of('TokenGeneration_Authentication')).toEqual([]);
    await t.client.send(
      new RespondToAuthChallengeCommand({
        ClientId: t.pool.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: PASSWORD },
        ClientMetadata: { loginChannel: 'web' },
      }),
    );
    const [tokenGeneration] = harness.of('TokenGeneration_NewPasswordChallenge');
    const v2Fixture = await fixture('pre-token-generation-v2.json');
    expect(tokenGeneration).toBeDefined();
    if (!tokenGeneration) return;
    expectEnvelope(tokenGeneration, v2Fixture, t.pool.clientId, email);
    expect(keys(tokenGeneration.request)).toEqual(keys(v2Fixture.request));
    expect(tokenGeneration.request['clientMetadata']).toEqual({ loginChannel: 'web' });
    expect(tokenGeneration.request['groupConfiguration']).toMatchObject({ groupsToOverride: [group] });
    expect(tokenGeneration.request.userAttributes['cognito:user_status']).toBe('CONFIRMED');
    // As on AWS, an admin-created user's first password change is not a post confirmation.
    expect(harness.of('PostConfirmation_ConfirmSignUp')).toEqual([]);
  });

  it('sends validationData null when SignUp has no ValidationData, and no clientMetadata without ClientMetadata', async () => {
    await t.client.send(
      new SignUpCommand({ ClientId: t.pool.clientId, Username: uniqueEmail(), Password: PASSWORD }),
    );
    const [event] = harness.of('PreSignUp_SignUp');
    expect(event?.request['validationData']).toBeNull();
    expect(event?.request).not.toHaveProperty('clientMetadata');
  });

  it('does not let the trigger change the pool through the event it receives', async () => {
    harness.behaviours.set('PreSignUp', async (event) => {
      event.request.userAttributes['email'] = 'hijack@example.com';
      return event;
    });
    const email = uniqueEmail('copy');
    await t.client.send(
      new SignUpCommand({ ClientId: t.pool.clientId, Username: email, Password: PASSWORD }),
    );
    const user = await t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    expect(user.UserAttributes).toEqual(expect.arrayContaining([{ Name: 'email', Value: email }]));
  });
});

describe('trigger rejections', () => {
  const harness = triggerHarness();
  let t: TestPool;
  beforeAll(async () => {
    t = await startTestPool({ triggers: harness.triggers, triggerTimeoutMs: 300 });
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => harness.reset());

  async function exists(email: string): Promise<boolean> {
    const result = await t.client.send(
      new ListUsersCommand({ UserPoolId: t.pool.poolId, Filter: `email = "${email}"` }),
    );
    return (result.Users?.length ?? 0) > 0;
  }

  const signUp = (email: string) =>
    t.client.send(new SignUpCommand({ ClientId: t.pool.clientId, Username: email, Password: PASSWORD }));

  it('a throwing PreSignUp fails SignUp with UserLambdaValidationException and creates no user', async () => {
    harness.behaviours.set('PreSignUp', async () => {
      throw new Error('Not invited');
    });
    const email = uniqueEmail('refused');
    await expectError(
      signUp(email),
      'UserLambdaValidationException',
      'PreSignUp failed with error Not invited.',
    );
    expect(await exists(email)).toBe(false);
    await expectError(
      t.client.send(
        new AdminCreateUserCommand({ UserPoolId: t.pool.poolId, Username: email, MessageAction: 'SUPPRESS' }),
      ),
      'UserLambdaValidationException',
      'PreSignUp failed with error Not invited.',
    );
    expect(await exists(email)).toBe(false);
    harness.behaviours.clear();
    await signUp(email);
    expect(await exists(email)).toBe(true);
  });

  it('does not call triggers for a sign-up that cannot succeed, or for a disabled user', async () => {
    const email = await signUpAndConfirm(t);
    harness.events.length = 0;
    await expectError(signUp(email), 'UsernameExistsException');
    await expectError(
      t.client.send(
        new SignUpCommand({ ClientId: t.pool.clientId, Username: uniqueEmail(), Password: 'weak' }),
      ),
      'InvalidPasswordException',
    );
    await t.client.send(new AdminDisableUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    await expectError(login(t, email), 'NotAuthorizedException', 'User is disabled.');
    await expectError(
      login(t, email, 'Wrong-passw0rd'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    expect(harness.events).toEqual([]);
  });

  it('a reply that is not an event is InvalidLambdaResponseException; no user', async () => {
    harness.behaviours.set('PreSignUp', async () => null);
    const email = uniqueEmail('null');
    await expectError(signUp(email), 'InvalidLambdaResponseException');
    expect(await exists(email)).toBe(false);
    harness.behaviours.set('PreSignUp', async () => 'ok');
    await expectError(signUp(email), 'InvalidLambdaResponseException');
    expect(await exists(email)).toBe(false);
  });

  it('a trigger that takes too long is UnexpectedLambdaException; no user', async () => {
    harness.behaviours.set(
      'PreSignUp',
      (event) => new Promise((resolve) => setTimeout(() => resolve(event), 1000)),
    );
    const email = uniqueEmail('slow');
    await expectError(signUp(email), 'UnexpectedLambdaException', /PreSignUp/);
    expect(await exists(email)).toBe(false);
    // Within the limit, the same trigger is fine.
    harness.behaviours.set(
      'PreSignUp',
      (event) => new Promise((resolve) => setTimeout(() => resolve(event), 50)),
    );
    await signUp(email);
    expect(await exists(email)).toBe(true);
  });

  it('autoConfirmUser and autoVerifyEmail confirm at sign-up, with post confirmation', async () => {
    harness.behaviours.set('PreSignUp', async (event) => ({
      ...event,
      response: { autoConfirmUser: true, autoVerifyEmail: true, autoVerifyPhone: false },
    }));
    const email = uniqueEmail('auto');
    const result = await signUp(email);
    expect(result.UserConfirmed).toBe(true);
    expect(result.CodeDeliveryDetails).toBeUndefined();
    expect(harness.of('PostConfirmation_ConfirmSignUp')).toHaveLength(1);
    const id = decodePayload((await login(t, email)).IdToken);
    expect(id['email_verified']).toBe(true);
  });

  it('a throwing PostConfirmation leaves the user unconfirmed, with the code still valid', async () => {
    const email = uniqueEmail('post');
    await signUp(email);
    const code = (await codesOf(t.pool, email)).codes.confirmSignUp?.code;
    harness.behaviours.set('PostConfirmation', async () => {
      throw new Error('database unavailable');
    });
    const confirm = () =>
      t.client.send(
        new ConfirmSignUpCommand({ ClientId: t.pool.clientId, Username: email, ConfirmationCode: code }),
      );
    await expectError(
      confirm(),
      'UserLambdaValidationException',
      'PostConfirmation failed with error database unavailable.',
    );
    const user = await t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    expect(user.UserStatus).toBe('UNCONFIRMED');
    expect(user.UserAttributes).toEqual(expect.arrayContaining([{ Name: 'email_verified', Value: 'false' }]));
    await expectError(login(t, email), 'UserNotConfirmedException');
    harness.behaviours.clear();
    await confirm();
    expect((await login(t, email)).AccessToken).toBeDefined();
  });

  it('a throwing PostConfirmation on ConfirmForgotPassword keeps the old password', async () => {
    const email = await signUpAndConfirm(t);
    await t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: email }));
    const code = (await codesOf(t.pool, email)).codes.forgotPassword?.code;
    harness.behaviours.set('PostConfirmation_ConfirmForgotPassword', async () => {
      throw new Error('no');
    });
    await expectError(
      t.client.send(
        new ConfirmForgotPasswordCommand({
          ClientId: t.pool.clientId,
          Username: email,
          ConfirmationCode: code,
          Password: 'New-passw0rd',
        }),
      ),
      'UserLambdaValidationException',
      'PostConfirmation failed with error no.',
    );
    expect((await login(t, email)).AccessToken).toBeDefined();
    await expectError(login(t, email, 'New-passw0rd'), 'NotAuthorizedException');
  });

  it('a throwing PreAuthentication refuses sign-in, but not refresh', async () => {
    const email = await signUpAndConfirm(t);
    const tokens = await login(t, email);
    harness.events.length = 0;
    harness.behaviours.set('PreAuthentication', async () => {
      throw new Error('User is suspended');
    });
    await expectError(
      login(t, email),
      'UserLambdaValidationException',
      'PreAuthentication failed with error User is suspended.',
    );
    expect(harness.of('TokenGeneration_Authentication')).toEqual([]);
    expect((await refresh(t, tokens.RefreshToken ?? '')).AccessToken).toBeDefined();
  });

  it('a throwing PreTokenGeneration issues no tokens and stores no refresh token', async () => {
    const email = await signUpAndConfirm(t);
    const tokens = await login(t, email);
    const before = await sessionsInFile(t);
    harness.behaviours.set('TokenGeneration', async () => {
      throw new Error('User is suspended');
    });
    await expectError(
      login(t, email),
      'UserLambdaValidationException',
      'PreTokenGeneration failed with error User is suspended.',
    );
    await expectError(
      refresh(t, tokens.RefreshToken ?? ''),
      'UserLambdaValidationException',
      'PreTokenGeneration failed with error User is suspended.',
    );
    expect(await sessionsInFile(t)).toBe(before);
    harness.behaviours.clear();
    await login(t, email);
    expect(await sessionsInFile(t)).toBe(before + 1);
  });

  it('a throwing PreTokenGeneration after NEW_PASSWORD_REQUIRED leaves the temporary password in place', async () => {
    const email = uniqueEmail('force');
    await t.client.send(
      new AdminCreateUserCommand({
        UserPoolId: t.pool.poolId,
        Username: email,
        TemporaryPassword: 'Temp0rary-pass',
        MessageAction: 'SUPPRESS',
      }),
    );
    const start = () =>
      t.client.send(
        new InitiateAuthCommand({
          ClientId: t.pool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: email, PASSWORD: 'Temp0rary-pass' },
        }),
      );
    const respond = (session: string | undefined) =>
      t.client.send(
        new RespondToAuthChallengeCommand({
          ClientId: t.pool.clientId,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: session,
          ChallengeResponses: { USERNAME: email, NEW_PASSWORD: PASSWORD },
        }),
      );
    const challenge = await start();
    harness.behaviours.set('TokenGeneration_NewPasswordChallenge', async () => {
      throw new Error('not yet');
    });
    await expectError(
      respond(challenge.Session),
      'UserLambdaValidationException',
      'PreTokenGeneration failed with error not yet.',
    );
    const user = await t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    expect(user.UserStatus).toBe('FORCE_CHANGE_PASSWORD');
    expect((await start()).ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    harness.behaviours.clear();
    expect((await respond(challenge.Session)).AuthenticationResult?.AccessToken).toBeDefined();
  });
});

describe('the default trigger timeout', () => {
  it('is five seconds', async () => {
    const t = await startTestPool({
      triggers: (event) => new Promise((resolve) => setTimeout(() => resolve(event), 5500)),
    });
    try {
      const started = Date.now();
      await expectError(
        t.client.send(
          new SignUpCommand({ ClientId: t.pool.clientId, Username: uniqueEmail(), Password: PASSWORD }),
        ),
        'UnexpectedLambdaException',
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
    } finally {
      await t.close();
    }
  }, 15_000);
});

describe('pre token generation overrides', () => {
  async function poolWith(version: '1' | '2', behaviour: Behaviour) {
    const harness = triggerHarness();
    harness.behaviours.set('TokenGeneration', behaviour);
    const t = await startTestPool({ triggers: harness.triggers, triggerVersion: version });
    const group = 'editors';
    await t.client.send(new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: group }));
    const email = await signUpAndConfirm(t, uniqueEmail('claims'), PASSWORD, [
      { Name: 'phone_number', Value: '+12065551212' },
    ]);
    await t.client.send(
      new AdminAddUserToGroupCommand({ UserPoolId: t.pool.poolId, Username: email, GroupName: group }),
    );
    return { t, email, harness };
  }

  it('applies a V1 claimsOverrideDetails to the ID token and the groups to both tokens', async () => {
    const { t, email, harness } = await poolWith('1', async (event) => ({
      ...event,
      response: {
        claimsOverrideDetails: {
          claimsToAddOrOverride: {
            tenant_id: 'tenant-42',
            plan: 'pro',
            sub: 'forged-sub',
            token_use: 'access',
          },
          claimsToSuppress: ['phone_number', 'iss'],
          groupOverrideDetails: {
            groupsToOverride: ['tenant_admins', 'beta'],
            iamRolesToOverride: ['arn:aws:iam::123456789012:role/Admins'],
            preferredRole: 'arn:aws:iam::123456789012:role/Admins',
          },
        },
      },
    }));
    try {
      const tokens = await login(t, email);
      const [event] = harness.of('TokenGeneration_Authentication');
      expect(event?.version).toBe('1');
      expect(event?.request).not.toHaveProperty('scopes');
      const v1Fixture = await fixture('pre-token-generation-v1.json');
      expect(keys(event?.request)).toEqual(keys(v1Fixture.request).filter((key) => key !== 'clientMetadata'));
      expect(event?.request['groupConfiguration']).toMatchObject({ groupsToOverride: ['editors'] });

      const verifiers = await verifiersFor(t.pool);
      const id = await verifiers.id.verify(tokens.IdToken ?? '');
      const access = await verifiers.access.verify(tokens.AccessToken ?? '');
      expect(id['tenant_id']).toBe('tenant-42');
      expect(id['plan']).toBe('pro');
      expect(id['phone_number']).toBeUndefined();
      expect(id['email']).toBe(email);
      expect(id['cognito:groups']).toEqual(['tenant_admins', 'beta']);
      expect(id['cognito:roles']).toEqual(['arn:aws:iam::123456789012:role/Admins']);
      expect(id['cognito:preferred_role']).toBe('arn:aws:iam::123456789012:role/Admins');
      // Claims that cannot be changed are left alone.
      expect(id.sub).toBe(event?.request.userAttributes['sub']);
      expect(id.token_use).toBe('id');
      expect(id.iss).toBe(t.pool.issuer);
      // V1 changes only groups in the access token.
      expect(access['cognito:groups']).toEqual(['tenant_admins', 'beta']);
      expect(access['tenant_id']).toBeUndefined();
      expect(access['cognito:roles']).toBeUndefined();
      expect(t.logs.some((line) => line.includes('sub cannot be changed'))).toBe(true);

      // The same applies on refresh.
      const renewed = await refresh(t, tokens.RefreshToken ?? '');
      expect(decodePayload(renewed.IdToken)['tenant_id']).toBe('tenant-42');
      expect(harness.of('TokenGeneration_RefreshTokens')).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('refuses a V1 claim value that is not a string', async () => {
    const { t, email } = await poolWith('1', async (event) => ({
      ...event,
      response: { claimsOverrideDetails: { claimsToAddOrOverride: { seats: 25 } } },
    }));
    try {
      await expectError(login(t, email), 'InvalidLambdaResponseException');
    } finally {
      await t.close();
    }
  });

  it('applies a V2 claimsAndScopeOverrideDetails to both tokens', async () => {
    const { t, email, harness } = await poolWith('2', async (event) => ({
      ...event,
      response: {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: {
            claimsToAddOrOverride: { tenant_id: 'tenant-42', family_name: 'Major', both: 'x' },
            claimsToSuppress: ['phone_number', 'both'],
          },
          accessTokenGeneration: {
            claimsToAddOrOverride: {
              tenant_id: 'tenant-42',
              seats: 25,
              is_admin: false,
              entitlements: ['reports', 'exports'],
              org: { id: 'org-7', region: 'eu' },
              client_id: 'forged',
              exp: 9999999999,
            },
            claimsToSuppress: ['username'],
            scopesToAdd: ['orders-api/orders.read'],
            scopesToSuppress: ['aws.cognito.signin.user.admin'],
          },
          groupOverrideDetails: {
            groupsToOverride: ['tenant_users'],
            iamRolesToOverride: [],
            preferredRole: null,
          },
        },
      },
    }));
    try {
      const tokens = await login(t, email);
      expect(harness.of('TokenGeneration_Authentication')[0]?.version).toBe('2');
      const verifiers = await verifiersFor(t.pool);
      const id = await verifiers.id.verify(tokens.IdToken ?? '');
      const access = await verifiers.access.verify(tokens.AccessToken ?? '');
      expect(id).toMatchObject({
        tenant_id: 'tenant-42',
        family_name: 'Major',
        'cognito:groups': ['tenant_users'],
      });
      expect(id['phone_number']).toBeUndefined();
      // Suppressed beats overridden.
      expect(id['both']).toBeUndefined();
      expect(id['seats']).toBeUndefined();
      expect(access).toMatchObject({
        tenant_id: 'tenant-42',
        seats: 25,
        is_admin: false,
        entitlements: ['reports', 'exports'],
        org: { id: 'org-7', region: 'eu' },
        'cognito:groups': ['tenant_users'],
        scope: 'orders-api/orders.read',
        client_id: t.pool.clientId,
        username: email,
      });
      expect((access.exp ?? 0) - (access.iat ?? 0)).toBe(3600);
      expect(access['family_name']).toBeUndefined();
      expect(id['cognito:roles']).toBeUndefined();
      const user = await t.client.send(
        new InitiateAuthCommand({
          ClientId: t.pool.clientId,
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken ?? '' },
        }),
      );
      expect(decodePayload(user.AuthenticationResult?.AccessToken)['seats']).toBe(25);
    } finally {
      await t.close();
    }
  });

  it('V2: a null groupOverrideDetails removes the groups; no override details keep them', async () => {
    let details: unknown = { groupOverrideDetails: null };
    const { t, email } = await poolWith('2', async (event) => ({
      ...event,
      response: { claimsAndScopeOverrideDetails: details },
    }));
    try {
      let tokens = await login(t, email);
      expect(decodePayload(tokens.IdToken)['cognito:groups']).toBeUndefined();
      expect(decodePayload(tokens.AccessToken)['cognito:groups']).toBeUndefined();
      details = null;
      tokens = await login(t, email);
      expect(decodePayload(tokens.IdToken)['cognito:groups']).toEqual(['editors']);
      expect(decodePayload(tokens.AccessToken)['cognito:groups']).toEqual(['editors']);
    } finally {
      await t.close();
    }
  });

  it('V2: refuses invalid overrides', async () => {
    let details: unknown = {
      idTokenGeneration: { claimsToAddOrOverride: { email_verified: { nested: true } } },
    };
    const { t, email } = await poolWith('2', async (event) => ({
      ...event,
      response: { claimsAndScopeOverrideDetails: details },
    }));
    try {
      await expectError(login(t, email), 'InvalidLambdaResponseException');
      details = { accessTokenGeneration: { scopesToAdd: ['two words'] } };
      await expectError(login(t, email), 'InvalidLambdaResponseException');
      details = { accessTokenGeneration: { claimsToAddOrOverride: { aud: 'https://api.example.com' } } };
      await expectError(login(t, email), 'InvalidLambdaResponseException');
      details = { accessTokenGeneration: { claimsToAddOrOverride: { aud: t.pool.clientId } } };
      expect(decodePayload((await login(t, email)).AccessToken)['aud']).toBe(t.pool.clientId);
    } finally {
      await t.close();
    }
  });
});
