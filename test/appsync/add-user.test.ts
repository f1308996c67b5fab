import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUserResolver } from '../../src/appsync/add-user.js';
import { createDataSource } from '../../src/appsync/data-source.js';
import type { DataSource, IdentityProviderAdmin } from '../../src/appsync/types.js';
import { startStack, type TestStack } from '../support/stack.js';
import { cognitoIdentity, eventFrom, expectError } from './helpers.js';

// addUser runs as the manager: the database picks the tenant and applies the rank rules, and
// the identity provider is only asked once the database has agreed.
describe('addUser', () => {
  let stack: TestStack;
  let ds: DataSource;
  const created: Parameters<IdentityProviderAdmin['createUser']>[0][] = [];
  let failNext = false;
  const subs = { superUser: randomUUID(), member: randomUUID() };

  const addUser = (sub: string, args: Record<string, unknown>) =>
    ds.handler(
      eventFrom('invoke-cognito.json', {
        field: 'Mutation.addUser',
        identity: cognitoIdentity(sub),
        arguments: args,
      }),
    );
  const row = async (email: string) =>
    (
      await stack.cluster.admin.query(
        'select tenant_id, role, status from cognition.users where email = $1',
        [email],
      )
    ).rows[0] as { tenant_id: string; role: string; status: string } | undefined;

  beforeAll(async () => {
    stack = await startStack({ template: false });
    await stack.cognition.tenantRoles.declare({
      roles: ['Admin', 'SuperUser', 'Member'],
      manageUsersFrom: 'SuperUser',
    });
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    await stack.cognition.tenants.create({ slug: 'globex', name: 'Globex' });
    for (const [email, role, sub] of [
      ['super@acme.test', 'SuperUser', subs.superUser],
      ['member@acme.test', 'Member', subs.member],
    ] as const) {
      await stack.cognition.users.invite({ email, tenant: 'acme', role });
      await stack.cognition.users.provision(email, { subject: sub });
    }
    ds = createDataSource({
      cognition: stack.cognition,
      resolvers: { 'Mutation.addUser': addUserResolver() },
      log: () => {},
      identityProvider: {
        async createUser(user) {
          if (failNext) {
            failNext = false;
            throw new Error('user pool unavailable');
          }
          created.push(user);
        },
      },
    });
  });
  afterAll(async () => {
    await ds?.close();
    await stack?.stop();
  });

  it("invites into the manager's tenant, then creates the login with the tenant recorded", async () => {
    const user = (await addUser(subs.superUser, {
      name: 'Nina',
      email: 'nina@acme.test',
      role: 'Member',
    })) as Record<string, unknown>;
    expect(user).toMatchObject({ email: 'nina@acme.test', role: 'Member', status: 'invited', name: 'Nina' });
    const acme = await stack.cognition.tenants.get('acme');
    expect(await row('nina@acme.test')).toEqual({ tenant_id: acme?.id, role: 'Member', status: 'invited' });
    expect(created.at(-1)).toEqual({
      email: 'nina@acme.test',
      tenantId: acme?.id,
      role: 'Member',
      givenName: 'Nina',
    });
  });

  it('ignores a tenant passed as an argument', async () => {
    const globex = await stack.cognition.tenants.get('globex');
    await addUser(subs.superUser, {
      name: 'Tom',
      email: 'tom@acme.test',
      role: 'Member',
      tenantId: globex?.id,
      tenant_id: globex?.id,
    });
    expect((await row('tom@acme.test'))?.tenant_id).toBe((await stack.cognition.tenants.get('acme'))?.id);
  });

  it('refuses a rank above the caller, and a caller who manages nobody, before the identity provider is asked', async () => {
    const before = created.length;
    await expectError(
      addUser(subs.superUser, { name: 'Eve', email: 'eve@acme.test', role: 'Admin' }),
      'Unauthorized',
    );
    await expectError(
      addUser(subs.member, { name: 'Eve', email: 'eve2@acme.test', role: 'Member' }),
      'Unauthorized',
    );
    expect(await row('eve@acme.test')).toBeUndefined();
    expect(await row('eve2@acme.test')).toBeUndefined();
    expect(created.length).toBe(before);
  });

  it('refuses bad input with BadRequest, whatever it carries', async () => {
    await expectError(
      addUser(subs.superUser, { name: 'X', email: "x'; drop table cognition.users; --", role: 'Member' }),
      'BadRequest',
      /ERR_INVALID_EMAIL/,
    );
    await expectError(
      addUser(subs.superUser, { name: 'X', email: 'x@acme.test', role: "Member'; --" }),
      'BadRequest',
      /ERR_INVALID_ROLE/,
    );
  });

  it('withdraws the invitation when the login cannot be created', async () => {
    failNext = true;
    await expectError(
      addUser(subs.superUser, { name: 'Zoe', email: 'zoe@acme.test', role: 'Member' }),
      'IdentityProviderError',
      /ERR_IDENTITY_PROVIDER/,
    );
    expect((await row('zoe@acme.test'))?.status).toBe('removed');
  });
});
