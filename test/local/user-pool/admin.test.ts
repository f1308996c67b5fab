import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  CreateGroupCommand,
  DeleteGroupCommand,
  GetUserCommand,
  InitiateAuthCommand,
  ListUsersCommand,
  RespondToAuthChallengeCommand,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAndActivate,
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

let t: TestPool;

beforeAll(async () => {
  t = await startTestPool();
});

afterAll(async () => {
  await t.close();
});

describe('AdminCreateUser and NEW_PASSWORD_REQUIRED', () => {
  it('creates a FORCE_CHANGE_PASSWORD user whose first sign-in must set a password', async () => {
    const email = uniqueEmail('invited');
    const created = await t.client.send(
      new AdminCreateUserCommand({
        UserPoolId: t.pool.poolId,
        Username: email,
        TemporaryPassword: 'Temp0rary-pass',
        UserAttributes: [
          { Name: 'email_verified', Value: 'true' },
          { Name: 'given_name', Value: 'Ivy' },
        ],
      }),
    );
    expect(created.User).toMatchObject({
      Username: email,
      Enabled: true,
      UserStatus: 'FORCE_CHANGE_PASSWORD',
    });
    expect(created.User?.UserCreateDate).toBeInstanceOf(Date);
    expect(Math.abs((created.User?.UserCreateDate?.getTime() ?? 0) - Date.now())).toBeLessThan(10_000);
    expect(created.User?.Attributes).toEqual(
      expect.arrayContaining([
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
        { Name: 'given_name', Value: 'Ivy' },
      ]),
    );
    // Not suppressed: the invitation is printed.
    expect(t.logs.some((line) => line.includes(email) && line.includes('Temp0rary-pass'))).toBe(true);

    await expectError(
      login(t, email, 'Wrong-passw0rd'),
      'NotAuthorizedException',
      'Incorrect username or password.',
    );
    const challenge = await t.client.send(
      new InitiateAuthCommand({
        ClientId: t.pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: 'Temp0rary-pass' },
      }),
    );
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    expect(challenge.AuthenticationResult).toBeUndefined();
    expect(challenge.Session?.length).toBeGreaterThan(20);
    expect(challenge.ChallengeParameters?.['USER_ID_FOR_SRP']).toBe(email);
    expect(JSON.parse(challenge.ChallengeParameters?.['requiredAttributes'] ?? '')).toEqual([]);
    expect(JSON.parse(challenge.ChallengeParameters?.['userAttributes'] ?? '')).toMatchObject({ email });

    const respond = (session: string | undefined, password: string) =>
      t.client.send(
        new RespondToAuthChallengeCommand({
          ClientId: t.pool.clientId,
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: session,
          ChallengeResponses: { USERNAME: email, NEW_PASSWORD: password },
        }),
      );
    await expectError(respond('bogus-session', PASSWORD), 'NotAuthorizedException');
    await expectError(respond(challenge.Session, 'short'), 'InvalidPasswordException');
    const result = await respond(challenge.Session, PASSWORD);
    const tokens = result.AuthenticationResult;
    expect(tokens?.RefreshToken).toBeDefined();
    const verifiers = await verifiersFor(t.pool);
    const id = await verifiers.id.verify(tokens?.IdToken ?? '');
    expect(id).toMatchObject({ email, email_verified: true, given_name: 'Ivy', 'cognito:username': email });
    await verifiers.access.verify(tokens?.AccessToken ?? '');

    // The session is used up, the user confirmed, the temporary password gone.
    await expectError(respond(challenge.Session, 'Another-passw0rd'), 'NotAuthorizedException');
    const user = await t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    expect(user.UserStatus).toBe('CONFIRMED');
    await expectError(login(t, email, 'Temp0rary-pass'), 'NotAuthorizedException');
    expect((await login(t, email)).AccessToken).toBeDefined();
    expect((await refresh(t, tokens?.RefreshToken ?? '')).AccessToken).toBeDefined();
  });

  it('generates and prints a temporary password when none is given, even when suppressed', async () => {
    const email = uniqueEmail('generated');
    await t.client.send(
      new AdminCreateUserCommand({ UserPoolId: t.pool.poolId, Username: email, MessageAction: 'SUPPRESS' }),
    );
    const line = t.logs.find((entry) => entry.includes(email));
    const password = /temporary password (\S+)/.exec(line ?? '')?.[1] ?? '';
    expect(password).toMatch(/[A-Z]/);
    expect(password).toMatch(/[a-z]/);
    expect(password).toMatch(/\d/);
    expect(password.length).toBeGreaterThanOrEqual(8);
    const challenge = await t.client.send(
      new InitiateAuthCommand({
        ClientId: t.pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
  });

  it('does not print a given temporary password when suppressed; RESEND prints a new one', async () => {
    const email = uniqueEmail('quiet');
    await t.client.send(
      new AdminCreateUserCommand({
        UserPoolId: t.pool.poolId,
        Username: email,
        TemporaryPassword: 'Quiet-passw0rd',
        MessageAction: 'SUPPRESS',
      }),
    );
    expect(t.logs.some((line) => line.includes(email))).toBe(false);
    await t.client.send(
      new AdminCreateUserCommand({ UserPoolId: t.pool.poolId, Username: email, MessageAction: 'RESEND' }),
    );
    const password =
      /temporary password (\S+)/.exec(t.logs.find((line) => line.includes(email)) ?? '')?.[1] ?? '';
    expect(password).not.toBe('');
    expect(password).not.toBe('Quiet-passw0rd');
    await expectError(login(t, email, 'Quiet-passw0rd'), 'NotAuthorizedException');
    const challenge = await t.client.send(
      new InitiateAuthCommand({
        ClientId: t.pool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
  });

  it('AdminGetUser describes the user; AdminDeleteUser removes them and their tokens', async () => {
    const email = await signUpAndConfirm(t, uniqueEmail('deleted'), PASSWORD, [
      { Name: 'family_name', Value: 'Doe' },
    ]);
    const tokens = await login(t, email);
    const user = await t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    expect(user).toMatchObject({ Username: email, Enabled: true, UserStatus: 'CONFIRMED' });
    expect(user.UserAttributes).toEqual(
      expect.arrayContaining([
        { Name: 'sub', Value: decodePayload(tokens.IdToken)['sub'] },
        { Name: 'family_name', Value: 'Doe' },
        { Name: 'email_verified', Value: 'true' },
      ]),
    );
    await t.client.send(new AdminDeleteUserCommand({ UserPoolId: t.pool.poolId, Username: email }));
    await expectError(
      t.client.send(new AdminGetUserCommand({ UserPoolId: t.pool.poolId, Username: email })),
      'UserNotFoundException',
      'User does not exist.',
    );
    await expectError(login(t, email), 'NotAuthorizedException');
    await expectError(refresh(t, tokens.RefreshToken ?? ''), 'NotAuthorizedException');
    await expectError(
      t.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken })),
      'NotAuthorizedException',
    );
  });
});

describe('groups', () => {
  it('adds, lists and removes group memberships; tokens follow', async () => {
    const { email } = await createAndActivate(t);
    const suffix = Date.now().toString(36);
    const created = await t.client.send(
      new CreateGroupCommand({
        UserPoolId: t.pool.poolId,
        GroupName: `editors-${suffix}`,
        Description: 'Editors',
        Precedence: 2,
      }),
    );
    expect(created.Group).toMatchObject({
      GroupName: `editors-${suffix}`,
      Description: 'Editors',
      Precedence: 2,
    });
    await t.client.send(
      new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: `readers-${suffix}` }),
    );
    await expectError(
      t.client.send(new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: `readers-${suffix}` })),
      'GroupExistsException',
    );
    for (const group of [`readers-${suffix}`, `editors-${suffix}`]) {
      await t.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: t.pool.poolId, Username: email, GroupName: group }),
      );
    }
    const listed = await t.client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: t.pool.poolId, Username: email, Limit: 1 }),
    );
    expect(listed.Groups?.map((group) => group.GroupName)).toEqual([`editors-${suffix}`]);
    expect(listed.NextToken).toBeDefined();
    const rest = await t.client.send(
      new AdminListGroupsForUserCommand({
        UserPoolId: t.pool.poolId,
        Username: email,
        Limit: 1,
        NextToken: listed.NextToken,
      }),
    );
    expect(rest.Groups?.map((group) => group.GroupName)).toEqual([`readers-${suffix}`]);
    expect(rest.NextToken).toBeUndefined();

    let tokens = await login(t, email);
    expect(decodePayload(tokens.IdToken)['cognito:groups']).toEqual([
      `editors-${suffix}`,
      `readers-${suffix}`,
    ]);
    expect(decodePayload(tokens.AccessToken)['cognito:groups']).toEqual([
      `editors-${suffix}`,
      `readers-${suffix}`,
    ]);

    await t.client.send(
      new AdminRemoveUserFromGroupCommand({
        UserPoolId: t.pool.poolId,
        Username: email,
        GroupName: `editors-${suffix}`,
      }),
    );
    tokens = await login(t, email);
    expect(decodePayload(tokens.AccessToken)['cognito:groups']).toEqual([`readers-${suffix}`]);
    await t.client.send(
      new DeleteGroupCommand({ UserPoolId: t.pool.poolId, GroupName: `readers-${suffix}` }),
    );
    tokens = await login(t, email);
    expect(decodePayload(tokens.AccessToken)['cognito:groups']).toBeUndefined();
    const none = await t.client.send(
      new AdminListGroupsForUserCommand({ UserPoolId: t.pool.poolId, Username: email }),
    );
    expect(none.Groups).toEqual([]);
  });

  it('refuses unknown groups and users', async () => {
    const { email } = await createAndActivate(t);
    await expectError(
      t.client.send(
        new AdminAddUserToGroupCommand({ UserPoolId: t.pool.poolId, Username: email, GroupName: 'nope' }),
      ),
      'ResourceNotFoundException',
      'Group not found.',
    );
    await t.client.send(new CreateGroupCommand({ UserPoolId: t.pool.poolId, GroupName: `g-${Date.now()}` }));
    await expectError(
      t.client.send(
        new AdminAddUserToGroupCommand({
          UserPoolId: t.pool.poolId,
          Username: 'ghost@example.com',
          GroupName: 'nope',
        }),
      ),
      'UserNotFoundException',
    );
  });
});

describe('ListUsers', () => {
  let pool: TestPool;
  beforeAll(async () => {
    pool = await startTestPool();
    for (const [email, name] of [
      ['alice@acme.test', 'Alice'],
      ['alan@acme.test', 'Alan'],
      ['bob@globex.test', 'Bob'],
      ['carol@acme.test', 'Carol'],
    ] as const) {
      await signUpAndConfirm(pool, email, PASSWORD, [{ Name: 'given_name', Value: name }]);
    }
    await pool.client.send(
      new AdminCreateUserCommand({
        UserPoolId: pool.pool.poolId,
        Username: 'dave@acme.test',
        MessageAction: 'SUPPRESS',
      }),
    );
  });
  afterAll(async () => {
    await pool.close();
  });

  const names = (users: UserType[] | undefined) => (users ?? []).map((user) => user.Username);
  const list = (input: {
    Filter?: string;
    Limit?: number;
    PaginationToken?: string;
    AttributesToGet?: string[];
  }) => pool.client.send(new ListUsersCommand({ UserPoolId: pool.pool.poolId, ...input }));

  it('lists everyone without a filter', async () => {
    const result = await list({});
    expect(names(result.Users)).toEqual([
      'alan@acme.test',
      'alice@acme.test',
      'bob@globex.test',
      'carol@acme.test',
      'dave@acme.test',
    ]);
    expect(result.PaginationToken).toBeUndefined();
    const alice = result.Users?.find((user) => user.Username === 'alice@acme.test');
    expect(alice).toMatchObject({ Enabled: true, UserStatus: 'CONFIRMED' });
    expect(alice?.Attributes).toEqual(expect.arrayContaining([{ Name: 'given_name', Value: 'Alice' }]));
  });

  it('filters by exact value and by prefix', async () => {
    expect(names((await list({ Filter: 'email = "bob@globex.test"' })).Users)).toEqual(['bob@globex.test']);
    expect(names((await list({ Filter: 'email = "BOB@globex.test"' })).Users)).toEqual(['bob@globex.test']);
    expect(names((await list({ Filter: 'email = "bob@globex"' })).Users)).toEqual([]);
    expect(names((await list({ Filter: 'email ^= "al"' })).Users)).toEqual([
      'alan@acme.test',
      'alice@acme.test',
    ]);
    expect(names((await list({ Filter: 'given_name ^= "Ca"' })).Users)).toEqual(['carol@acme.test']);
    expect(names((await list({ Filter: 'cognito:user_status = "FORCE_CHANGE_PASSWORD"' })).Users)).toEqual([
      'dave@acme.test',
    ]);
    expect(names((await list({ Filter: 'username ^= "c"' })).Users)).toEqual(['carol@acme.test']);
    expect(names((await list({ Filter: 'status = "Enabled"' })).Users)).toHaveLength(5);
    await expectError(list({ Filter: 'email ~ "x"' }), 'InvalidParameterException');
    await expectError(list({ Filter: 'custom:tenant = "x"' }), 'InvalidParameterException');
  });

  it('pages with Limit and PaginationToken', async () => {
    const first = await list({ Filter: 'email ^= "a"', Limit: 1 });
    expect(names(first.Users)).toEqual(['alan@acme.test']);
    expect(first.PaginationToken).toBeDefined();
    const second = await list({ Filter: 'email ^= "a"', Limit: 1, PaginationToken: first.PaginationToken });
    expect(names(second.Users)).toEqual(['alice@acme.test']);
    expect(second.PaginationToken).toBeUndefined();
    const pages: string[] = [];
    let token: string | undefined;
    do {
      const page = await list({ Limit: 2, ...(token !== undefined && { PaginationToken: token }) });
      expect(page.Users?.length).toBeLessThanOrEqual(2);
      pages.push(...names(page.Users).map(String));
      token = page.PaginationToken;
    } while (token !== undefined);
    expect(pages).toHaveLength(5);
    expect(new Set(pages).size).toBe(5);
    await expectError(list({ PaginationToken: 'garbage' }), 'InvalidParameterException');
    await expectError(list({ Limit: 61 }), 'InvalidParameterException');
  });

  it('returns only the attributes asked for', async () => {
    const result = await list({ Filter: 'email = "alice@acme.test"', AttributesToGet: ['given_name'] });
    expect(result.Users?.[0]?.Attributes).toEqual([{ Name: 'given_name', Value: 'Alice' }]);
  });
});
