import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCognitoErrorMessage } from '../../src/cognito/errors.js';
import { createCognitoTriggers, type CognitoTriggers } from '../../src/cognito/triggers.js';
import type { UserRole } from '../../src/users/validation.js';
import { startStack, type TestStack } from '../support/stack.js';
import { eventFor, expectRejected, fixture } from './helpers.js';

describe('Cognito triggers', () => {
  let stack: TestStack;
  let triggers: CognitoTriggers;

  const count = async (sql: string) =>
    (await stack.cluster.admin.query<{ n: number }>(`select count(*)::int as n from ${sql}`)).rows[0]!.n;
  const roleCount = () => count("pg_roles where rolname like 'u\\_%'");
  /** Everything a trigger could create: user rows, audit entries, login roles, secrets. */
  const footprint = async () => ({
    users: await count('cognition.users'),
    audit: await count('cognition.audit_log'),
    roles: await roleCount(),
    secrets: (await stack.secrets.list('test/users/')).length,
  });

  beforeAll(async () => {
    stack = await startStack();
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    await stack.cognition.tenants.create({ slug: 'frozen', name: 'Frozen' });
    triggers = createCognitoTriggers({ cognition: stack.cognition });
  });
  afterAll(async () => {
    await triggers?.close();
    await stack?.stop();
  });

  const invite = (email: string, tenant: string | null = 'acme', role: UserRole = 'user') =>
    stack.cognition.users.invite({ email, tenant, role });
  async function active(email: string, tenant: string | null = 'acme', role: UserRole = 'user') {
    const sub = randomUUID();
    await invite(email, tenant, role);
    const { user } = await stack.cognition.users.provision(email, { subject: sub });
    return { user, sub };
  }

  const signUp = (email: string, source = 'PreSignUp_SignUp') =>
    eventFor('pre-signup.json', { email }, { triggerSource: source });
  const confirm = (email: string, sub: string, extra: Record<string, unknown> = {}) =>
    eventFor('post-confirmation.json', { email, sub, ...extra });
  const authenticate = (email: string, sub: string) => eventFor('pre-authentication.json', { email, sub });
  const tokens = (
    version: 1 | 2,
    email: string,
    sub: string,
    source = 'TokenGeneration_Authentication',
    extra: Record<string, unknown> = {},
  ) =>
    eventFor(
      version === 1 ? 'pre-token-generation-v1.json' : 'pre-token-generation-v2.json',
      { email, sub, ...extra },
      { triggerSource: source, response: {} },
    );

  describe('PreSignUp', () => {
    it('accepts an invited email in any case, from every sign-up source', async () => {
      await invite('Alice.Smith@Acme.test');
      for (const source of ['PreSignUp_SignUp', 'PreSignUp_AdminCreateUser', 'PreSignUp_ExternalProvider']) {
        for (const email of ['alice.smith@acme.test', 'ALICE.SMITH@ACME.TEST', 'Alice.Smith@Acme.test']) {
          const event = signUp(email, source);
          expect(await triggers.preSignUp(event)).toEqual(signUp(email, source));
        }
      }
    });

    it('accepts an invited application admin (no tenant)', async () => {
      await invite('root@ops.test', null, 'application_admin');
      await expect(triggers.handler(signUp('root@ops.test'))).resolves.toMatchObject({
        triggerSource: 'PreSignUp_SignUp',
      });
    });

    it('rejects an uninvited email, and creates nothing', async () => {
      const before = await footprint();
      const error = await expectRejected(triggers.handler(signUp('stranger@acme.test')), 'ERR_NOT_INVITED');
      expect(error.message).toBe('ERR_NOT_INVITED: this email has not been invited');
      expect(toCognitoErrorMessage('PreSignUp', error)).toBe(
        'PreSignUp failed with error ERR_NOT_INVITED: this email has not been invited.',
      );
      expect(await footprint()).toEqual(before);
    });

    it('rejects an invitation to a suspended tenant, and creates nothing', async () => {
      await invite('bob@frozen.test', 'frozen');
      await expect(triggers.handler(signUp('bob@frozen.test'))).resolves.toBeDefined();
      await stack.cognition.tenants.setStatus('frozen', 'suspended');
      try {
        const before = await footprint();
        await expectRejected(triggers.handler(signUp('BOB@frozen.test')), 'ERR_TENANT_INACTIVE');
        expect(await footprint()).toEqual(before);
      } finally {
        await stack.cognition.tenants.setStatus('frozen', 'active');
      }
    });

    it('rejects a suspended user and an email that already has an identity', async () => {
      const { user } = await active('carol@acme.test');
      await expectRejected(triggers.handler(signUp('carol@acme.test')), 'ERR_USER_EXISTS');
      await stack.cognition.suspendUser(user.id);
      await expectRejected(triggers.handler(signUp('carol@acme.test')), 'ERR_USER_INACTIVE');
    });

    it('accepts a user provisioned before having any identity (e.g. by the CLI)', async () => {
      await stack.user('dave@acme.test', 'acme', 'user');
      await expect(triggers.handler(signUp('dave@acme.test'))).resolves.toBeDefined();
    });
  });

  describe('PostConfirmation', () => {
    it('provisions once when confirmed twice: one role, one secret, the sub bound', async () => {
      const user = await invite('erin@acme.test');
      const sub = randomUUID();
      const roles = await roleCount();
      const secrets = (await stack.secrets.list('test/users/')).length;
      const event = confirm('erin@acme.test', sub);
      expect(await triggers.handler(event)).toEqual(confirm('erin@acme.test', sub));
      const first = await stack.cognition.users.require(user.id);
      expect(first).toMatchObject({ status: 'active', idpSubject: sub });
      expect(first.dbUsername).toMatch(/^u_[a-z0-9]{24}$/);

      expect(await triggers.handler(confirm('erin@acme.test', sub))).toEqual(confirm('erin@acme.test', sub));
      const second = await stack.cognition.users.require(user.id);
      expect(second.dbUsername).toBe(first.dbUsername);
      expect(await roleCount()).toBe(roles + 1);
      expect((await stack.secrets.list('test/users/')).length).toBe(secrets + 1);
      expect(await stack.secrets.get(stack.cognition.users.secretId(user.id))).toMatchObject({
        username: first.dbUsername,
      });
      // The role works: the user can run SQL as itself.
      const { rows } = await stack.cognition.runAs(second, 'select current_user as me');
      expect(rows[0]).toEqual({ me: first.dbUsername });
    });

    it('provisions once under 5 concurrent confirmations', async () => {
      // A few rounds, as the interleavings differ from one run to the next.
      for (const name of ['frank', 'fiona', 'fred', 'flora']) {
        const user = await invite(`${name}@acme.test`);
        const sub = randomUUID();
        const roles = await roleCount();
        const secrets = (await stack.secrets.list('test/users/')).length;
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, (_, i) =>
            triggers.handler(confirm(i % 2 ? `${name.toUpperCase()}@ACME.test` : `${name}@acme.test`, sub)),
          ),
        );
        expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual(
          Array(5).fill('fulfilled'),
        );
        expect(await roleCount()).toBe(roles + 1);
        expect((await stack.secrets.list('test/users/')).length).toBe(secrets + 1);
        expect(await stack.cognition.users.require(user.id)).toMatchObject({
          status: 'active',
          idpSubject: sub,
        });
      }
    });

    it('treats ConfirmForgotPassword as a no-op, without touching the database', async () => {
      const user = await invite('gina@acme.test');
      const event = eventFor('post-confirmation-forgot-password.json', {
        email: 'gina@acme.test',
        sub: randomUUID(),
      });
      const before = await footprint();
      expect(await triggers.handler(event)).toEqual(structuredClone(event));
      expect(await footprint()).toEqual(before);
      expect((await stack.cognition.users.require(user.id)).status).toBe('invited');
      // Proof that no query ran: the same event through triggers whose database is unreachable.
      const offline = createCognitoTriggers({
        databaseUrl: 'postgres://nobody:nothing@127.0.0.1:1/none',
        secrets: stack.secrets,
        log: () => {},
      });
      try {
        expect(await offline.handler(event)).toEqual(structuredClone(event));
        await expectRejected(offline.handler(confirm('gina@acme.test', randomUUID())), 'ERR_INTERNAL');
      } finally {
        await offline.close();
      }
    });

    it('rejects an uninvited email, a suspended user and an unverified email', async () => {
      await expectRejected(triggers.handler(confirm('nobody@acme.test', randomUUID())), 'ERR_NOT_INVITED');
      const { user } = await active('hank@acme.test');
      await stack.cognition.suspendUser(user.id);
      await expectRejected(
        triggers.handler(confirm('hank@acme.test', user.idpSubject!)),
        'ERR_USER_INACTIVE',
      );

      const ivy = await invite('ivy@acme.test');
      const before = await footprint();
      for (const verified of ['false', 'False', 'yes', '', undefined]) {
        await expectRejected(
          triggers.handler(confirm('ivy@acme.test', randomUUID(), { email_verified: verified })),
          'ERR_EMAIL_NOT_VERIFIED',
        );
      }
      expect(await footprint()).toEqual(before);
      expect((await stack.cognition.users.require(ivy.id)).status).toBe('invited');
    });

    it('never binds a second identity to a user', async () => {
      const { user, sub } = await active('jack@acme.test');
      const before = await footprint();
      await expectRejected(
        triggers.handler(confirm('jack@acme.test', randomUUID())),
        'ERR_IDENTITY_MISMATCH',
      );
      expect(await footprint()).toEqual(before);
      expect((await stack.cognition.users.require(user.id)).idpSubject).toBe(sub);
    });

    it('rejects confirmation into a suspended tenant', async () => {
      const user = await invite('kim@frozen.test', 'frozen');
      await stack.cognition.tenants.setStatus('frozen', 'suspended');
      try {
        await expectRejected(
          triggers.handler(confirm('kim@frozen.test', randomUUID())),
          'ERR_TENANT_INACTIVE',
        );
        expect((await stack.cognition.users.require(user.id)).status).toBe('invited');
      } finally {
        await stack.cognition.tenants.setStatus('frozen', 'active');
      }
    });
  });

  describe('PreAuthentication', () => {
    it('lets an active user and an invited (admin-created) user through', async () => {
      const { sub } = await active('leo@acme.test');
      expect(await triggers.handler(authenticate('leo@acme.test', sub))).toEqual(
        authenticate('leo@acme.test', sub),
      );
      await invite('mia@acme.test');
      await expect(triggers.handler(authenticate('mia@acme.test', randomUUID()))).resolves.toBeDefined();
    });

    it('rejects suspended, removed and unknown users', async () => {
      const suspended = await active('ned@acme.test');
      await stack.cognition.suspendUser(suspended.user.id);
      await expectRejected(
        triggers.handler(authenticate('ned@acme.test', suspended.sub)),
        'ERR_USER_INACTIVE',
      );
      // A suspended user is refused whichever identity attribute the event leads with.
      await expectRejected(
        triggers.handler(authenticate('other@acme.test', suspended.sub)),
        'ERR_USER_INACTIVE',
      );

      const removed = await active('olga@acme.test');
      await stack.cognition.removeUser(removed.user.id);
      await expectRejected(
        triggers.handler(authenticate('olga@acme.test', removed.sub)),
        'ERR_USER_NOT_FOUND',
      );

      await expectRejected(
        triggers.handler(authenticate('unknown@acme.test', randomUUID())),
        'ERR_USER_NOT_FOUND',
      );
    });

    it('rejects the users of a suspended tenant', async () => {
      const { sub } = await active('pat@frozen.test', 'frozen');
      await expect(triggers.handler(authenticate('pat@frozen.test', sub))).resolves.toBeDefined();
      await stack.cognition.tenants.setStatus('frozen', 'suspended');
      try {
        await expectRejected(triggers.handler(authenticate('pat@frozen.test', sub)), 'ERR_TENANT_INACTIVE');
      } finally {
        await stack.cognition.tenants.setStatus('frozen', 'active');
      }
    });

    it('leaves unknown usernames to Cognito when it reports userNotFound', async () => {
      const event = fixture('pre-authentication.json');
      event.request.userNotFound = true;
      event.request.userAttributes = {};
      expect(await triggers.handler(event)).toEqual(structuredClone(event));
    });
  });

  describe('PreTokenGeneration', () => {
    it('adds tenant and role claims and groups from the database (V1)', async () => {
      const { user, sub } = await active('quinn@acme.test', 'acme', 'admin');
      const event = tokens(1, 'quinn@acme.test', sub);
      const { response } = await triggers.handler(event);
      expect(response).toEqual({
        claimsOverrideDetails: {
          claimsToAddOrOverride: { tenant_id: user.tenantId, tenant_slug: 'acme', tenant_role: 'admin' },
          groupOverrideDetails: { groupsToOverride: ['admin'] },
        },
      });
      const claims = response.claimsOverrideDetails.claimsToAddOrOverride as Record<string, unknown>;
      expect(Object.values(claims).every((v) => typeof v === 'string')).toBe(true);
      expect(user.tenantId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('adds them to both tokens (V2), replacing the Cognito groups', async () => {
      const { user, sub } = await active('rita@acme.test');
      const event = tokens(2, 'rita@acme.test', sub);
      expect(event.request.groupConfiguration.groupsToOverride).toEqual(['editors']);
      const { response } = await triggers.handler(event);
      const ours = { tenant_id: user.tenantId, tenant_slug: 'acme', tenant_role: 'user' };
      expect(response).toEqual({
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: { claimsToAddOrOverride: ours },
          accessTokenGeneration: { claimsToAddOrOverride: ours },
          groupOverrideDetails: { groupsToOverride: ['user'] },
        },
      });
    });

    it('gives an application admin no tenant claims, even if something else set them', async () => {
      const { sub } = await active('root2@ops.test', null, 'application_admin');
      const event = fixture('pre-token-generation-v1.json');
      Object.assign(event.request.userAttributes, { email: 'root2@ops.test', sub });
      const { response } = await triggers.handler(event);
      expect(response.claimsOverrideDetails.claimsToAddOrOverride).toEqual({
        plan: 'pro',
        tenant_role: 'application_admin',
      });
      expect(response.claimsOverrideDetails.groupOverrideDetails.groupsToOverride).toEqual([
        'application_admin',
      ]);
    });

    it('keeps its claims when an earlier step asked to suppress them', async () => {
      const { sub } = await active('sam@acme.test');
      const event = tokens(2, 'sam@acme.test', sub);
      event.response = {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: { claimsToSuppress: ['tenant_role', 'tenant_id', 'phone_number'] },
          accessTokenGeneration: {
            claimsToAddOrOverride: { tenant_role: 'admin' },
            claimsToSuppress: ['tenant_slug'],
          },
        },
      };
      const { response } = await triggers.handler(event);
      const details = response.claimsAndScopeOverrideDetails;
      expect(details.idTokenGeneration.claimsToSuppress).toEqual(['phone_number']);
      expect(details.accessTokenGeneration.claimsToSuppress).toEqual([]);
      expect(details.accessTokenGeneration.claimsToAddOrOverride.tenant_role).toBe('user');
    });

    it('shows a role change in the database in the next tokens', async () => {
      const { user, sub } = await active('tess@acme.test');
      const before = await triggers.handler(tokens(2, 'tess@acme.test', sub));
      expect(before.response.claimsAndScopeOverrideDetails.groupOverrideDetails.groupsToOverride).toEqual([
        'user',
      ]);
      await stack.cluster.admin.query("update cognition.users set role = 'admin' where id = $1", [user.id]);
      for (const version of [1, 2] as const) {
        const after = await triggers.handler(
          tokens(version, 'tess@acme.test', sub, 'TokenGeneration_RefreshTokens'),
        );
        const details =
          version === 1 ? after.response.claimsOverrideDetails : after.response.claimsAndScopeOverrideDetails;
        expect(details.groupOverrideDetails.groupsToOverride).toEqual(['admin']);
        const claims =
          version === 1 ? details.claimsToAddOrOverride : details.accessTokenGeneration.claimsToAddOrOverride;
        expect(claims.tenant_role).toBe('admin');
      }
    });

    it('refuses tokens to a suspended user, on refresh too, and issues them again once reactivated', async () => {
      const { user, sub } = await active('uma@acme.test');
      await expect(
        triggers.handler(tokens(1, 'uma@acme.test', sub, 'TokenGeneration_RefreshTokens')),
      ).resolves.toBeDefined();
      await stack.cognition.suspendUser(user.id);
      for (const source of [
        'TokenGeneration_RefreshTokens',
        'TokenGeneration_Authentication',
        'TokenGeneration_HostedAuth',
      ]) {
        for (const version of [1, 2] as const) {
          const error = await expectRejected(
            triggers.handler(tokens(version, 'uma@acme.test', sub, source)),
            'ERR_USER_INACTIVE',
          );
          expect(toCognitoErrorMessage('PreTokenGeneration', error)).toBe(
            'PreTokenGeneration failed with error ERR_USER_INACTIVE: this user is suspended.',
          );
        }
      }
      await stack.cognition.users.reactivate(user.id);
      await expect(
        triggers.handler(tokens(2, 'uma@acme.test', sub, 'TokenGeneration_RefreshTokens')),
      ).resolves.toBeDefined();
    });

    it('refuses tokens to a removed user and to the users of a suspended tenant', async () => {
      const removed = await active('vic@acme.test');
      await stack.cognition.removeUser(removed.user.id);
      await expectRejected(
        triggers.handler(tokens(1, 'vic@acme.test', removed.sub, 'TokenGeneration_RefreshTokens')),
        'ERR_USER_NOT_FOUND',
      );
      const { sub } = await active('wes@frozen.test', 'frozen');
      await stack.cognition.tenants.setStatus('frozen', 'suspended');
      try {
        await expectRejected(
          triggers.handler(tokens(2, 'wes@frozen.test', sub, 'TokenGeneration_RefreshTokens')),
          'ERR_TENANT_INACTIVE',
        );
      } finally {
        await stack.cognition.tenants.setStatus('frozen', 'active');
      }
    });

    it('provisions an AdminCreateUser user lazily, once, before the first tokens', async () => {
      const user = await invite('xena@acme.test', 'acme', 'admin');
      const sub = randomUUID();
      // AdminCreateUser (email not marked verified, as is the default) → sign-in with the
      // temporary password → NEW_PASSWORD_REQUIRED → tokens: no PostConfirmation anywhere.
      const unverified = { email_verified: 'false' };
      await triggers.handler(
        eventFor('pre-signup-admin-create.json', { email: 'xena@acme.test', ...unverified }),
      );
      await triggers.handler(
        eventFor('pre-authentication.json', {
          email: 'xena@acme.test',
          sub,
          'cognito:user_status': 'FORCE_CHANGE_PASSWORD',
          ...unverified,
        }),
      );
      expect((await stack.cognition.users.require(user.id)).status).toBe('invited');

      // Whoever answers NEW_PASSWORD_REQUIRED may have changed the email: an unverified one
      // binds nothing (else anyone with an admin-created account could claim another invitation).
      await expect(
        triggers.handler(
          tokens(2, 'xena@acme.test', sub, 'TokenGeneration_NewPasswordChallenge', unverified),
        ),
      ).rejects.toThrow(/ERR_EMAIL_NOT_VERIFIED/);
      expect((await stack.cognition.users.require(user.id)).status).toBe('invited');

      const roles = await roleCount();
      const first = await triggers.handler(
        tokens(2, 'xena@acme.test', sub, 'TokenGeneration_NewPasswordChallenge', { email_verified: 'true' }),
      );
      const provisioned = await stack.cognition.users.require(user.id);
      expect(provisioned).toMatchObject({ status: 'active', idpSubject: sub });
      expect(await stack.secrets.get(stack.cognition.users.secretId(user.id))).toMatchObject({
        username: provisioned.dbUsername,
      });
      expect(first.response.claimsAndScopeOverrideDetails.idTokenGeneration.claimsToAddOrOverride).toEqual({
        tenant_id: user.tenantId,
        tenant_slug: 'acme',
        tenant_role: 'admin',
      });
      expect(await roleCount()).toBe(roles + 1);

      await triggers.handler(tokens(1, 'xena@acme.test', sub, 'TokenGeneration_RefreshTokens', unverified));
      expect((await stack.cognition.users.require(user.id)).dbUsername).toBe(provisioned.dbUsername);
      expect(await roleCount()).toBe(roles + 1);
    });

    it('does not provision or bind from an unverified email outside an admin-created account', async () => {
      const user = await invite('yann@acme.test');
      const sub = randomUUID();
      // Signing in binds nothing, so it may go ahead; no token is issued though.
      await expect(
        triggers.handler(
          eventFor('pre-authentication.json', { email: 'yann@acme.test', sub, email_verified: 'false' }),
        ),
      ).resolves.toBeDefined();
      for (const source of [
        'TokenGeneration_Authentication',
        'TokenGeneration_HostedAuth',
        'TokenGeneration_RefreshTokens',
        'TokenGeneration_AuthenticateDevice',
      ]) {
        for (const version of [1, 2] as const) {
          await expectRejected(
            triggers.handler(tokens(version, 'yann@acme.test', sub, source, { email_verified: 'false' })),
            'ERR_EMAIL_NOT_VERIFIED',
          );
        }
      }
      expect(await stack.cognition.users.require(user.id)).toMatchObject({
        status: 'invited',
        idpSubject: null,
      });
    });

    it('binds the sub of a user provisioned without one, and finds it by sub afterwards', async () => {
      const user = await stack.user('zoe@acme.test', 'acme', 'user');
      expect(user.idpSubject).toBeNull();
      const sub = randomUUID();
      await triggers.handler(tokens(1, 'zoe@acme.test', sub));
      expect((await stack.cognition.users.require(user.id)).idpSubject).toBe(sub);
      // Found by sub now: the email attribute no longer matters (it may change in Cognito).
      const again = await triggers.handler(tokens(1, 'zoe.renamed@elsewhere.test', sub));
      expect(again.response.claimsOverrideDetails.claimsToAddOrOverride.tenant_id).toBe(user.tenantId);
    });

    it('passes machine-to-machine (client credentials) events through untouched', async () => {
      const event = {
        ...fixture('pre-token-generation-v2.json'),
        version: '3',
        triggerSource: 'TokenGeneration_ClientCredentials',
        response: { claimsAndScopeOverrideDetails: null },
      };
      expect(await triggers.handler(event)).toEqual(structuredClone(event));
    });

    it('rejects an event version it does not know', async () => {
      const { sub } = await active('ver@acme.test');
      await expect(triggers.handler(tokens(2, 'ver@acme.test', sub))).resolves.toBeDefined();
      await expectRejected(
        triggers.handler({ ...tokens(2, 'ver@acme.test', sub), version: '9' }),
        'ERR_UNSUPPORTED_TRIGGER',
      );
    });
  });

  describe('dispatch', () => {
    it('rejects sources it does not serve, and events sent to the wrong trigger', async () => {
      for (const source of [
        'CustomMessage_SignUp',
        'PostAuthentication_Authentication',
        'UserMigration_Authentication',
        '',
        undefined,
      ]) {
        await expectRejected(
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          triggers.handler({ ...fixture('pre-signup.json'), triggerSource: source } as any),
          'ERR_UNSUPPORTED_TRIGGER',
        );
      }
      await expectRejected(triggers.preSignUp(fixture('post-confirmation.json')), 'ERR_UNSUPPORTED_TRIGGER');
      await expectRejected(
        triggers.preTokenGeneration(fixture('pre-authentication.json')),
        'ERR_UNSUPPORTED_TRIGGER',
      );
      await expectRejected(triggers.postConfirmation(fixture('pre-signup.json')), 'ERR_UNSUPPORTED_TRIGGER');
      await expectRejected(
        triggers.preAuthentication(fixture('pre-token-generation-v1.json')),
        'ERR_UNSUPPORTED_TRIGGER',
      );
    });
  });
});
