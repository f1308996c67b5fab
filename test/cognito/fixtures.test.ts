import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCognitoTriggers, type CognitoTriggers } from '../../src/cognito/triggers.js';
import type { TriggerErrorCode } from '../../src/cognito/errors.js';
import type { User } from '../../src/users/users.js';
import { startStack, type TestStack } from '../support/stack.js';
import { eventFor, expectRejected, fixture, fixtureNames, withoutResponse } from './helpers.js';

/**
 * Every sample event in ../shared/fixtures/cognito goes through the dispatching handler: as it
 * is (its user is unknown here) and adjusted to a user the application knows.
 */
describe('Cognito sample events', () => {
  let stack: TestStack;
  let triggers: CognitoTriggers;
  const roleCount = async () =>
    (
      await stack.cluster.admin.query<{ n: number }>(
        "select count(*)::int as n from pg_roles where rolname like 'u\\_%'",
      )
    ).rows[0]!.n;

  beforeAll(async () => {
    stack = await startStack();
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    triggers = createCognitoTriggers({ cognition: stack.cognition });
  });
  afterAll(async () => {
    await triggers?.close();
    await stack?.stop();
  });

  async function invited(email: string): Promise<User> {
    return stack.cognition.users.invite({ email, tenant: 'acme', role: 'user' });
  }
  async function active(email: string, sub: string): Promise<User> {
    await invited(email);
    return (await stack.cognition.users.provision(email, { subject: sub })).user;
  }

  const scenarios: Record<string, () => Promise<void>> = {
    'pre-signup.json': async () => {
      await invited('mary.signup@acme.test');
      const event = eventFor('pre-signup.json', { email: 'Mary.Signup@ACME.test' });
      const input = structuredClone(event);
      const output = await triggers.handler(event);
      expect(output).toEqual(input);
      expect(output.response).toEqual({
        autoConfirmUser: false,
        autoVerifyEmail: false,
        autoVerifyPhone: false,
      });
    },

    'pre-signup-admin-create.json': async () => {
      await invited('john.admin-created@acme.test');
      const event = eventFor('pre-signup-admin-create.json', { email: 'john.admin-created@acme.test' });
      const input = structuredClone(event);
      expect(await triggers.handler(event)).toEqual(input);
    },

    'post-confirmation.json': async () => {
      const before = await roleCount();
      const user = await invited('mary.confirm@acme.test');
      const sub = randomUUID();
      const event = eventFor('post-confirmation.json', { email: 'mary.confirm@acme.test', sub });
      const input = structuredClone(event);
      const output = await triggers.handler(event);
      expect(output).toEqual(input);
      expect(output.response).toEqual({});
      const after = await stack.cognition.users.require(user.id);
      expect(after).toMatchObject({ status: 'active', idpSubject: sub });
      expect(await roleCount()).toBe(before + 1);
      expect(await stack.secrets.get(stack.cognition.users.secretId(user.id))).toMatchObject({
        username: after.dbUsername,
      });
    },

    'post-confirmation-forgot-password.json': async () => {
      const before = await roleCount();
      const event = fixture('post-confirmation-forgot-password.json');
      const input = structuredClone(event);
      expect(await triggers.handler(event)).toEqual(input);
      expect(await roleCount()).toBe(before);
      expect(await stack.cognition.users.find({ email: 'mary_major@example.com' })).toBeUndefined();
    },

    'pre-authentication.json': async () => {
      const sub = randomUUID();
      await active('mary.auth@acme.test', sub);
      const event = eventFor('pre-authentication.json', { email: 'mary.auth@acme.test', sub });
      const input = structuredClone(event);
      const output = await triggers.handler(event);
      expect(output).toEqual(input);
      expect(output.response).toEqual({});
    },

    'pre-token-generation-v1.json': async () => {
      const sub = randomUUID();
      const user = await active('mary.v1@acme.test', sub);
      const event = eventFor('pre-token-generation-v1.json', { email: 'mary.v1@acme.test', sub });
      const input = structuredClone(event);
      const output = await triggers.handler(event);
      expect(withoutResponse(output)).toEqual(withoutResponse(input));
      // The sample's response is what a function returns; fed back in, its other parts stay.
      expect(output.response).toEqual({
        claimsOverrideDetails: {
          claimsToAddOrOverride: {
            tenant_id: user.tenantId,
            plan: 'pro',
            tenant_slug: 'acme',
            tenant_role: 'user',
          },
          claimsToSuppress: ['phone_number'],
          groupOverrideDetails: {
            groupsToOverride: ['user'],
            iamRolesToOverride: [
              'arn:aws:iam::123456789012:role/EditorsRole',
              'arn:aws:iam::123456789012:role/ReadersRole',
            ],
            preferredRole: 'arn:aws:iam::123456789012:role/EditorsRole',
          },
        },
      });
      // What Cognito sends on input is not documented ({} or []): either way, the V1 shape.
      for (const response of [{}, [], { claimsOverrideDetails: null }]) {
        const fresh = await triggers.handler({ ...structuredClone(input), response });
        expect(fresh.response).toEqual({
          claimsOverrideDetails: {
            claimsToAddOrOverride: { tenant_id: user.tenantId, tenant_slug: 'acme', tenant_role: 'user' },
            groupOverrideDetails: { groupsToOverride: ['user'] },
          },
        });
      }
    },

    'pre-token-generation-v2.json': async () => {
      const sub = randomUUID();
      const user = await active('mary.v2@acme.test', sub);
      const event = eventFor('pre-token-generation-v2.json', { email: 'mary.v2@acme.test', sub });
      const input = structuredClone(event);
      const output = await triggers.handler(event);
      expect(withoutResponse(output)).toEqual(withoutResponse(input));
      const ours = { tenant_id: user.tenantId, tenant_slug: 'acme', tenant_role: 'user' };
      expect(output.response).toEqual({
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: {
            claimsToAddOrOverride: { family_name: 'Major', ...ours },
            claimsToSuppress: ['phone_number'],
          },
          accessTokenGeneration: {
            claimsToAddOrOverride: {
              seats: 25,
              is_admin: false,
              entitlements: ['reports', 'exports'],
              org: { id: 'org-7', region: 'eu' },
              ...ours,
            },
            claimsToSuppress: ['email'],
            scopesToAdd: ['openid', 'email', 'orders-api/orders.read'],
            scopesToSuppress: ['phone_number'],
          },
          groupOverrideDetails: {
            groupsToOverride: ['user'],
            iamRolesToOverride: ['arn:aws:iam::123456789012:role/EditorsRole'],
            preferredRole: 'arn:aws:iam::123456789012:role/EditorsRole',
          },
        },
      });
      for (const response of [{}, { claimsAndScopeOverrideDetails: [] }]) {
        const fresh = await triggers.handler({ ...structuredClone(input), response });
        expect(fresh.response).toEqual({
          claimsAndScopeOverrideDetails: {
            idTokenGeneration: { claimsToAddOrOverride: ours },
            accessTokenGeneration: { claimsToAddOrOverride: ours },
            groupOverrideDetails: { groupsToOverride: ['user'] },
          },
        });
      }
    },
  };

  it('has a scenario for every sample event', () => {
    expect(fixtureNames()).toEqual(Object.keys(scenarios).sort());
  });

  for (const [name, scenario] of Object.entries(scenarios)) {
    it(`accepts ${name} for a user the application knows`, scenario);
  }

  // The samples' own users (mary_major, john_stiles) are unknown to this database.
  const asIs: Record<string, TriggerErrorCode | 'accepted'> = {
    'pre-signup.json': 'ERR_NOT_INVITED',
    'pre-signup-admin-create.json': 'ERR_NOT_INVITED',
    'post-confirmation.json': 'ERR_NOT_INVITED',
    'post-confirmation-forgot-password.json': 'accepted',
    'pre-authentication.json': 'ERR_USER_NOT_FOUND',
    'pre-token-generation-v1.json': 'ERR_USER_NOT_FOUND',
    'pre-token-generation-v2.json': 'ERR_USER_NOT_FOUND',
  };

  it('answers every sample event as it is with a clean result', async () => {
    expect(Object.keys(asIs).sort()).toEqual(fixtureNames());
    for (const [name, expected] of Object.entries(asIs)) {
      const event = fixture(name);
      if (expected === 'accepted') expect(await triggers.handler(event)).toEqual(fixture(name));
      else await expectRejected(triggers.handler(event), expected);
    }
  });

  it('tolerates unknown extra fields everywhere in the event', async () => {
    const sub = randomUUID();
    await active('extra.fields@acme.test', sub);
    for (const name of [
      'pre-authentication.json',
      'pre-token-generation-v1.json',
      'pre-token-generation-v2.json',
    ]) {
      const event = eventFor(
        name,
        { email: 'extra.fields@acme.test', sub, 'custom:unknown': 'x', 'dev:thing': 'y' },
        { futureTopLevel: { nested: [1, 2] }, version: fixture(name).version },
      );
      event.request.futureRequestField = 'z';
      event.callerContext.newContextField = true;
      const output = await triggers.handler(event);
      expect(output.futureTopLevel).toEqual({ nested: [1, 2] });
      expect(output.request.futureRequestField).toBe('z');
    }
  });
});
