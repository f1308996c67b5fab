import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsExecutor } from '../../src/db/credentials-executor.js';
import type { Executor } from '../../src/db/executor.js';
import { MAX_PREPARED_PER_CONNECTION } from '../../src/db/request.js';
import { RoleSwitchExecutor } from '../../src/db/role-switch-executor.js';
import type { User } from '../../src/users/users.js';
import { startStack, type TestStack } from '../support/stack.js';

const TEMPLATE = fileURLToPath(new URL('./fixtures/typed-template/', import.meta.url));

// Statements are prepared once per connection by their text, but the same text means other
// types in another tenant's schema: a result column, or a parameter compared with a column, of
// an enum or a domain defined in the template. One connection serves every tenant in turn.
describe('statements over types defined in the tenant template', () => {
  let stack: TestStack;
  const users: User[] = [];
  let roleSwitch: Executor;

  beforeAll(async () => {
    stack = await startStack({ template: TEMPLATE });
    // The last two: schema names of 47 bytes that differ only at the end.
    for (const slug of ['acme', 'globex', 'initech', `a${'x'.repeat(38)}1`, `a${'x'.repeat(38)}2`]) {
      await stack.cognition.tenants.create({ slug, name: slug });
      const user = await stack.user(`u@${slug}.test`, slug, 'user');
      await stack.cognition.runAs(user, "insert into tasks (id, title, status) values (1, $1, 'done')", [
        slug,
      ]);
      users.push(user);
    }
    roleSwitch = new RoleSwitchExecutor(await stack.cognition.authenticatorUrl(), { max: 1 });
  });
  afterAll(async () => {
    await roleSwitch?.close();
    await stack?.stop();
  });

  const statements: [string, string, (user: User) => unknown[], unknown][] = [
    ['an enum column in the result', 'select id, status from tasks', () => [], { id: 1, status: 'done' }],
    ['a domain column in the result', 'select title from tasks', () => [], undefined],
    [
      'a parameter compared with an enum column',
      'select id from tasks where status = $1',
      () => ['done'],
      { id: 1 },
    ],
    ['a parameter cast to the enum', 'select $1::task_status as s', () => ['open'], { s: 'open' }],
  ];

  it.each(statements)('role switch, one connection: %s', async (_, sql, params, expected) => {
    for (let round = 0; round < 2; round++) {
      for (const user of users) {
        const { rows } = await roleSwitch.run(
          { dbUsername: user.dbUsername!, schema: user.tenantSchema },
          sql,
          params(user),
        );
        expect(rows[0]).toEqual(expected ?? { title: user.tenantSlug });
      }
    }
  });

  it('the same through Cognition.runAs, and in credentials mode', async () => {
    const credentials = (await stack.cognition.executor('credentials')) as CredentialsExecutor;
    for (const user of [...users, ...users]) {
      expect((await stack.cognition.runAs(user, 'select status from tasks')).rows).toEqual([
        { status: 'done' },
      ]);
      const { rows } = await credentials.run(
        { dbUsername: user.dbUsername!, schema: user.tenantSchema },
        'select status, title from tasks where status = $1',
        ['done'],
      );
      expect(rows).toEqual([{ status: 'done', title: user.tenantSlug }]);
    }
  });

  it(`keeps at most ${MAX_PREPARED_PER_CONNECTION} statements prepared on a shared connection`, async () => {
    const as = { dbUsername: users[0]!.dbUsername!, schema: users[0]!.tenantSchema };
    const count = async () =>
      Number(
        (
          await roleSwitch.run<{ n: string }>(
            as,
            "select count(*) as n from pg_prepared_statements where name like 'cg\\_%'",
          )
        ).rows[0]!.n,
      );
    for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 50; i++) {
      const { rows } = await roleSwitch.run(as, `select ${i} as n, status from tasks`);
      expect(rows).toEqual([{ n: i, status: 'done' }]);
    }
    expect(await count()).toBe(MAX_PREPARED_PER_CONNECTION);
    // The first ones were closed: run again, they are prepared anew.
    for (let i = 0; i < 5; i++) {
      expect((await roleSwitch.run(as, `select ${i} as n, status from tasks`)).rows).toEqual([
        { n: i, status: 'done' },
      ]);
    }
    expect(await count()).toBe(MAX_PREPARED_PER_CONNECTION);
  });

  it('renews a shared connection after its lifetime, so that its caches start over', async () => {
    const short = new RoleSwitchExecutor(await stack.cognition.authenticatorUrl(), {
      max: 1,
      maxLifetimeSeconds: 1,
    });
    try {
      const as = { dbUsername: users[0]!.dbUsername!, schema: users[0]!.tenantSchema };
      const pid = async () =>
        (await short.run<{ pid: number }>(as, 'select pg_backend_pid() as pid')).rows[0]!.pid;
      const first = await pid();
      expect(await pid()).toBe(first);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      expect(await pid()).not.toBe(first);
    } finally {
      await short.close();
    }
  });
});
