import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  ConfirmSignUpCommand,
  ForgotPasswordCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  RespondToAuthChallengeCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codesOf,
  expectError,
  login,
  PASSWORD,
  signUpAndConfirm,
  startTestPool,
  uniqueEmail,
  type TestPool,
} from './support.js';

let t: TestPool;

beforeAll(async () => {
  t = await startTestPool();
});

afterAll(async () => {
  await t.close();
});

function signUp(username: string, password = PASSWORD, attributes: { Name: string; Value: string }[] = []) {
  return t.client.send(
    new SignUpCommand({
      ClientId: t.pool.clientId,
      Username: username,
      Password: password,
      UserAttributes: attributes,
    }),
  );
}

async function userCount(): Promise<number> {
  const result = await t.client.send(new ListUsersCommand({ UserPoolId: t.pool.poolId }));
  return result.Users?.length ?? 0;
}

async function rawCall(target: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(t.pool.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as { __type: string; message: string } };
}

describe('error responses', () => {
  it('UsernameExistsException: same username in any case, or an email already in use', async () => {
    const email = uniqueEmail('Taken');
    await signUp(email);
    await expectError(signUp(email), 'UsernameExistsException', 'User already exists');
    await expectError(signUp(email.toLowerCase()), 'UsernameExistsException');
    await expectError(
      signUp(`other${Date.now()}`, PASSWORD, [{ Name: 'email', Value: email.toUpperCase() }]),
      'UsernameExistsException',
      'An account with the given email already exists.',
    );
    await expectError(
      t.client.send(
        new AdminCreateUserCommand({ UserPoolId: t.pool.poolId, Username: email, MessageAction: 'SUPPRESS' }),
      ),
      'UsernameExistsException',
    );
  });

  it('InvalidPasswordException for each rule of the policy, creating no user', async () => {
    const before = await userCount();
    for (const [password, rule] of [
      ['Sh0rt-x', 'Password not long enough'],
      ['lowercase-only-1', 'Password must have uppercase characters'],
      ['UPPERCASE-ONLY-1', 'Password must have lowercase characters'],
      ['No-digits-here', 'Password must have numeric characters'],
    ]) {
      await expectError(
        signUp(uniqueEmail(), password),
        'InvalidPasswordException',
        `Password did not conform with policy: ${rule}`,
      );
    }
    expect(await userCount()).toBe(before);
    await expectError(
      t.client.send(
        new AdminCreateUserCommand({
          UserPoolId: t.pool.poolId,
          Username: uniqueEmail(),
          TemporaryPassword: 'weak',
        }),
      ),
      'InvalidPasswordException',
    );
    // Eight characters with all three classes is enough.
    await signUp(uniqueEmail(), 'Abcdefg1');
  });

  it('NotAuthorizedException for a wrong password and for an unknown user alike', async () => {
    const email = await signUpAndConfirm(t);
    await expectError(
      login(t, email, 'Wrong-passw0rd'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    await expectError(
      login(t, 'nobody@example.com'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
  });

  it('UserNotConfirmedException for an unconfirmed user with the right password only', async () => {
    const email = uniqueEmail();
    await signUp(email);
    await expectError(login(t, email), 'UserNotConfirmedException', 'User is not confirmed.');
    await expectError(login(t, email, 'Wrong-passw0rd'), 'NotAuthorizedException');
  });

  it('CodeMismatchException for a wrong code; NotAuthorizedException for confirming twice', async () => {
    const email = uniqueEmail();
    await signUp(email);
    const code = (await codesOf(t.pool, email)).codes.confirmSignUp?.code ?? '';
    const wrong = code === '123456' ? '654321' : '123456';
    const confirm = (value: string) =>
      t.client.send(
        new ConfirmSignUpCommand({ ClientId: t.pool.clientId, Username: email, ConfirmationCode: value }),
      );
    await expectError(
      confirm(wrong),
      'CodeMismatchException',
      'Invalid verification code provided, please try again.',
    );
    await confirm(code);
    await expectError(
      confirm(code),
      'NotAuthorizedException',
      'User cannot be confirmed. Current status is CONFIRMED',
    );
  });

  it('UserNotFoundException for unknown users', async () => {
    await expectError(
      t.client.send(
        new ConfirmSignUpCommand({
          ClientId: t.pool.clientId,
          Username: 'ghost@x.test',
          ConfirmationCode: '1',
        }),
      ),
      'UserNotFoundException',
    );
    await expectError(
      t.client.send(new ForgotPasswordCommand({ ClientId: t.pool.clientId, Username: 'ghost@x.test' })),
      'UserNotFoundException',
    );
    await expectError(
      t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: 'ghost@x.test' })),
      'UserNotFoundException',
      'User does not exist.',
    );
  });

  it('ResourceNotFoundException for another app client or user pool', async () => {
    await expectError(
      t.client.send(
        new SignUpCommand({ ClientId: 'someoneelsesclient', Username: uniqueEmail(), Password: PASSWORD }),
      ),
      'ResourceNotFoundException',
      'User pool client someoneelsesclient does not exist.',
    );
    await expectError(
      t.client.send(
        new InitiateAuthCommand({
          ClientId: 'someoneelsesclient',
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'a', PASSWORD: 'b' },
        }),
      ),
      'ResourceNotFoundException',
    );
    await expectError(
      t.client.send(new ListUsersCommand({ UserPoolId: 'us-east-1_NotMine12' })),
      'ResourceNotFoundException',
      'User pool us-east-1_NotMine12 does not exist.',
    );
    await expectError(
      t.client.send(new AdminGetUserCommand({ UserPoolId: 'us-east-1_NotMine12', Username: 'x' })),
      'ResourceNotFoundException',
    );
  });

  it('InvalidParameterException for malformed input', async () => {
    await expectError(
      signUp(uniqueEmail(), PASSWORD, [{ Name: 'favourite_colour', Value: 'blue' }]),
      'InvalidParameterException',
      /favourite_colour/,
    );
    await expectError(
      signUp(uniqueEmail(), PASSWORD, [{ Name: 'email_verified', Value: 'true' }]),
      'InvalidParameterException',
    );
    await expectError(
      signUp('has space', PASSWORD, [{ Name: 'email', Value: uniqueEmail() }]),
      'InvalidParameterException',
    );
    await expectError(
      signUp('not-an-email', PASSWORD, [{ Name: 'email', Value: 'nope' }]),
      'InvalidParameterException',
    );
    await expectError(
      t.client.send(
        new InitiateAuthCommand({
          ClientId: t.pool.clientId,
          AuthFlow: 'USER_SRP_AUTH',
          AuthParameters: { USERNAME: 'a' },
        }),
      ),
      'InvalidParameterException',
    );
    await expectError(
      t.client.send(
        new InitiateAuthCommand({
          ClientId: t.pool.clientId,
          AuthFlow: 'USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: 'a' },
        }),
      ),
      'InvalidParameterException',
      'Missing required parameter PASSWORD',
    );
    await expectError(
      t.client.send(
        new RespondToAuthChallengeCommand({
          ClientId: t.pool.clientId,
          ChallengeName: 'SMS_MFA',
          Session: 'x',
          ChallengeResponses: { USERNAME: 'a', SMS_MFA_CODE: '1' },
        }),
      ),
      'InvalidParameterException',
    );
    await expectError(
      t.client.send(
        new AdminCreateUserCommand({
          UserPoolId: t.pool.poolId,
          Username: uniqueEmail(),
          MessageAction: 'SHOUT' as 'SUPPRESS',
        }),
      ),
      'InvalidParameterException',
    );
  });

  it('NotAuthorizedException for a malformed access token', async () => {
    await expectError(
      t.client.send(new GetUserCommand({ AccessToken: 'not.a.token' })),
      'NotAuthorizedException',
      'Invalid Access Token',
    );
  });

  it('UnknownOperationException, SerializationException, and admin operations refused to browsers', async () => {
    const unknown = await rawCall('AWSCognitoIdentityProviderService.DescribeUserPool', '{}');
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('UnknownOperationException');
    const wrongService = await rawCall('secretsmanager.GetSecretValue', '{}');
    expect(wrongService.body.__type).toBe('UnknownOperationException');
    const malformed = await rawCall('AWSCognitoIdentityProviderService.SignUp', '{not json');
    expect(malformed.body.__type).toBe('SerializationException');

    const body = JSON.stringify({ UserPoolId: t.pool.poolId });
    const fromPage = await rawCall('AWSCognitoIdentityProviderService.ListUsers', body, {
      origin: 'https://evil.example',
    });
    expect(fromPage.status).toBe(400);
    expect(fromPage.body.__type).toBe('NotAuthorizedException');
    const fromNode = await rawCall('AWSCognitoIdentityProviderService.ListUsers', body);
    expect(fromNode.status).toBe(200);
    // Public operations are open to browsers, as on AWS.
    const publicCall = await rawCall(
      'AWSCognitoIdentityProviderService.InitiateAuth',
      JSON.stringify({
        ClientId: t.pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'nobody@example.com', PASSWORD: 'x' },
      }),
      { origin: 'http://localhost:5173' },
    );
    expect(publicCall.body).toEqual({
      __type: 'NotAuthorizedException',
      message: 'Incorrect username or password.',
    });
  });
});
