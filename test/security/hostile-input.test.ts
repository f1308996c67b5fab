import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCode } from '../support/expect.js';
import { startStack, type TestStack } from '../support/stack.js';

// Hostile names and emails: rejected with a clear code, or stored verbatim as data; never run.
describe('hostile input', () => {
  let stack: TestStack;
  const snapshot = async () =>
    (
      await stack.cluster.admin.query(`
        select (select count(*)::int from pg_roles) as roles,
               (select count(*)::int from pg_namespace) as schemas,
               (select count(*)::int from pg_class where relnamespace = 'cognition'::regnamespace) as relations`)
    ).rows[0];

  beforeAll(async () => {
    stack = await startStack();
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const badSlugs = [
    "acme'; drop schema cognition cascade; --",
    'acme"; drop role postgres; --',
    'ACME',
    'a-b',
    'a b',
    'acme;',
    'acme%',
    '_acme',
    '1acme',
    'çafé',
    'ａｃｍｅ',
    'a'.repeat(41),
    'a'.repeat(64),
    'template',
    '',
  ];
  it.each(badSlugs)('rejects the slug %j with ERR_INVALID_SLUG, running nothing', async (slug) => {
    const before = await snapshot();
    await expectCode(stack.cognition.tenants.create({ slug, name: 'x' }), 'ERR_INVALID_SLUG');
    expect(await snapshot()).toEqual(before);
  });

  it('rejects hostile slugs in the database too, not only in TypeScript', async () => {
    const client = stack.cluster.admin;
    await expect(
      client.query('select cognition.create_tenant_shell($1, $2)', [
        "x'; drop table cognition.users; --",
        'x',
      ]),
    ).rejects.toThrow(/ERR_INVALID_SLUG/);
    await expect(
      client.query('select cognition.create_tenant_shell($1, $2)', ['a'.repeat(41), 'x']),
    ).rejects.toThrow(/ERR_INVALID_SLUG/);
  });

  it('keeps tenants whose slugs share a prefix apart, up to the longest slug', async () => {
    const long = 'a'.repeat(40);
    await stack.cognition.tenants.create({ slug: 'acme_corp', name: 'Acme Corp' });
    const t = await stack.cognition.tenants.create({ slug: long, name: 'Long' });
    expect(t.adminRole).toBe(`tenant_${long}_admins`);
    expect(Buffer.byteLength(t.adminRole)).toBeLessThanOrEqual(63);
    const { rows } = await stack.cluster.admin.query(
      "select rolname from pg_roles where rolname like 'tenant\\_acme%' order by rolname",
    );
    expect(rows.map((r) => r.rolname)).toEqual([
      'tenant_acme_admins',
      'tenant_acme_corp_admins',
      'tenant_acme_corp_users',
      'tenant_acme_users',
    ]);
  });

  it('stores hostile display names verbatim as data', async () => {
    const name = `Robert'); drop table cognition.tenants; -- ☃ ${'é'.repeat(60)}`;
    const t = await stack.cognition.tenants.create({ slug: 'bobby', name });
    expect(t.name).toBe(name);
    expect((await stack.cognition.tenants.get('bobby'))?.name).toBe(name);
    await expectCode(
      stack.cognition.tenants.create({ slug: 'ctl', name: 'bad\u0000name' }),
      'ERR_INVALID_NAME',
    );
    await expectCode(
      stack.cognition.tenants.create({ slug: 'ctl', name: 'x'.repeat(201) }),
      'ERR_INVALID_NAME',
    );
  });

  const badEmails = [
    'no-at-sign',
    'a;b@acme.test',
    'bob@acme.test; drop table cognition.users',
    'bob@acme.test\nbcc: x@evil.test',
    'bob @acme.test',
    '"quoted"@acme.test',
    'bob@',
    '@acme.test',
    'bob@acme',
    `${'a'.repeat(65)}@acme.test`,
    `a@${'b'.repeat(250)}.test`,
    'bob@acme..test',
    'bob\u202e@acme.test',
    'b\u200bob@acme.test',
  ];
  it.each(badEmails)('rejects the email %j with ERR_INVALID_EMAIL', async (email) => {
    const before = await snapshot();
    await expectCode(stack.cognition.users.invite({ email, tenant: 'acme' }), 'ERR_INVALID_EMAIL');
    expect(await snapshot()).toEqual(before);
  });

  it('accepts real-world addresses with quotes, %, _ and unicode, and finds each exactly', async () => {
    const emails = [
      "o'brien@acme.test",
      'a_b@acme.test',
      'axb@acme.test',
      'x%y@acme.test',
      'üser@exämple.test',
    ];
    for (const email of emails)
      await stack.cognition.users.invite({ email, tenant: 'acme', givenName: "D'Arcy; --" });
    for (const email of emails) {
      const found = await stack.cognition.users.find(email.toUpperCase());
      expect(found?.email).toBe(email);
      expect(found?.givenName).toBe("D'Arcy; --");
    }
    // _ and % are not wildcards anywhere.
    expect((await stack.cognition.users.find('a_b@acme.test'))?.email).toBe('a_b@acme.test');
    expect(await stack.cognition.users.find('a%b@acme.test')).toBeUndefined();
    const provisioned = (await stack.cognition.users.provision("O'Brien@acme.test")).user;
    const { rows } = await stack.cognition.runAs(
      provisioned,
      'select email, given_name from cognition.users',
    );
    expect(rows).toEqual([{ email: "o'brien@acme.test", given_name: "D'Arcy; --" }]);
  });

  it('treats hostile values passed to sql --as as bound data', async () => {
    const user = await stack.user('param@acme.test', 'acme', 'user');
    const hostile = "x'); delete from notes; --";
    await stack.cognition.runAs(user, 'insert into notes (title) values ($1)', [hostile]);
    const { rows } = await stack.cognition.runAs(user, 'select title from notes where title = $1', [hostile]);
    expect(rows).toEqual([{ title: hostile }]);
  });

  it('rejects malformed ids and roles', async () => {
    await expectCode(
      stack.cognition.users.invite({ email: 'r@acme.test', tenant: 'acme', role: 'superuser' as never }),
      'ERR_INVALID_ROLE',
    );
    await expectCode(stack.cognition.users.provision({ id: "1' or '1'='1" }), 'ERR_INVALID_ARGUMENT');
    await expectCode(
      stack.cognition.users.invite({ email: 'r@acme.test', tenant: "acme' or 1=1" }),
      'ERR_INVALID_SLUG',
    );
    await expectCode(
      stack.cognition.users.invite({ email: 'r@acme.test', tenant: 'nope' }),
      'ERR_TENANT_NOT_FOUND',
    );
  });
});
