import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeLambdaDataSource, handler } from '../../src/appsync/lambda.js';
import type { BatchItemResult } from '../../src/appsync/types.js';
import { CredentialsExecutor } from '../../src/db/credentials-executor.js';
import { RoleSwitchExecutor } from '../../src/db/role-switch-executor.js';
import { UserService } from '../../src/users/users.js';
import { startStack, type TestStack } from '../support/stack.js';
import { adapt, eventFrom, expectError, fixture, FIXTURE_SUB } from './helpers.js';

const MODULE = fileURLToPath(new URL('./lambda-module.ts', import.meta.url));

/** The Lambda entry point, configured from the environment as it would be in AWS. */
describe('AppSync Lambda handler', () => {
  let stack: TestStack;
  const saved = { ...process.env };

  beforeAll(async () => {
    stack = await startStack();
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    await stack.cognition.users.invite({ email: 'alice@acme.test', tenant: 'acme', role: 'admin' });
    const { user } = await stack.cognition.users.provision('alice@acme.test', { subject: FIXTURE_SUB });
    await stack.cognition.runAs(user, "insert into notes (title) values ('from lambda')");
  });
  afterAll(async () => {
    process.env = saved;
    await closeLambdaDataSource();
    await stack?.stop();
  });

  function configure(extra: Record<string, string> = {}): void {
    Object.assign(process.env, {
      DATABASE_URL: stack.cluster.url,
      COGNITION_SECRET_STORE: 'local',
      COGNITION_HOME: stack.cluster.dir, // the stack's secrets are under <dir>/secrets
      COGNITION_SECRET_PREFIX: 'test',
      COGNITION_RESOLVERS: MODULE,
      ...extra,
    });
  }

  it('fails cleanly (masked, logged) while unconfigured, then builds once configured', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      delete process.env.COGNITION_RESOLVERS;
      const error = await expectError(
        handler(eventFrom('invoke-cognito.json', { field: 'Query.notes' })),
        'InternalError',
      );
      expect(errors).toHaveBeenCalledTimes(1);
      const id = /\(id ([0-9a-f]+)\)/.exec(error.message)![1]!;
      expect(String(errors.mock.calls[0]![0])).toContain(id);
      expect(String((errors.mock.calls[0]![1] as Error).message)).toMatch(/COGNITION_RESOLVERS/);
    } finally {
      errors.mockRestore();
    }

    configure();
    expect(await handler(eventFrom('invoke-cognito.json', { field: 'Query.notes' }))).toMatchObject([
      { title: 'from lambda' },
    ]);
    // Built once per container: a later change of the environment is not read again.
    process.env.COGNITION_RESOLVERS = '/nonexistent/module.js';
    expect(await handler(eventFrom('invoke-cognito.json', { field: 'Query.noteCount' }))).toBe(1);
  });

  it('takes the identity options from the module, and serves BatchInvoke', async () => {
    // invoke-iam.json's role is mapped to alice by the module's options.
    expect(await handler(eventFrom('invoke-iam.json', { field: 'Query.whoami' }))).toMatchObject({
      role: 'admin',
    });
    const events = fixture('batch-invoke.json').map((event: unknown) =>
      adapt(event, { field: 'Note.copy', source: { title: '' } }),
    );
    const items = (await handler(events)) as BatchItemResult[];
    expect(items).toHaveLength(3);
    for (const item of items) expect(item.errorType).toBe('ConstraintViolation');
    await expectError(handler(eventFrom('invoke-api-key.json', { field: 'Query.notes' })), 'Unauthorized');
  });

  it('COGNITION_MODE picks the executor', async () => {
    const credentials = vi.spyOn(CredentialsExecutor.prototype, 'run');
    const roleSwitch = vi.spyOn(RoleSwitchExecutor.prototype, 'run');
    try {
      await closeLambdaDataSource();
      configure({ COGNITION_MODE: 'credentials' });
      expect(await handler(eventFrom('invoke-cognito.json', { field: 'Query.noteCount' }))).toBe(1);
      expect(credentials).toHaveBeenCalledTimes(1);
      expect(roleSwitch).not.toHaveBeenCalled();

      await closeLambdaDataSource();
      configure({ COGNITION_MODE: 'role-switch' });
      expect(await handler(eventFrom('invoke-cognito.json', { field: 'Query.noteCount' }))).toBe(1);
      expect(roleSwitch).toHaveBeenCalledTimes(1);
    } finally {
      credentials.mockRestore();
      roleSwitch.mockRestore();
    }
  });

  it('opens the executor connection of a cold start while it looks the caller up', async () => {
    const steps: string[] = [];
    const { connect } = RoleSwitchExecutor.prototype;
    const { find } = UserService.prototype;
    const connects = vi.spyOn(RoleSwitchExecutor.prototype, 'connect').mockImplementation(async function (
      this: RoleSwitchExecutor,
    ) {
      steps.push('connect');
      await connect.call(this);
      steps.push('connected');
    });
    const finds = vi.spyOn(UserService.prototype, 'find').mockImplementation(async function (
      this: UserService,
      ...args: Parameters<UserService['find']>
    ) {
      steps.push('find');
      const user = await find.apply(this, args);
      steps.push('found');
      return user;
    });
    const runs = vi.spyOn(RoleSwitchExecutor.prototype, 'run');
    runs.mockImplementation(async function (this: RoleSwitchExecutor, ...args) {
      steps.push('run');
      runs.mockRestore();
      return RoleSwitchExecutor.prototype.run.apply(this, args);
    });
    try {
      await closeLambdaDataSource();
      configure({ COGNITION_MODE: 'role-switch' });
      expect(await handler(eventFrom('invoke-cognito.json', { field: 'Query.noteCount' }))).toBe(1);
      expect(connects).toHaveBeenCalledTimes(1);
      // Both under way at once; the statement waits for both.
      expect(steps.indexOf('connect')).toBeLessThan(steps.indexOf('found'));
      expect(steps.indexOf('find')).toBeLessThan(steps.indexOf('connected'));
      expect(steps.indexOf('run')).toBeGreaterThan(
        Math.max(steps.indexOf('connected'), steps.indexOf('found')),
      );
    } finally {
      connects.mockRestore();
      finds.mockRestore();
      runs.mockRestore();
      await closeLambdaDataSource();
    }
  });

  it('refuses a module without resolvers', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await closeLambdaDataSource();
      configure({ COGNITION_RESOLVERS: fileURLToPath(new URL('./helpers.ts', import.meta.url)) });
      await expectError(handler(eventFrom('invoke-cognito.json', { field: 'Query.notes' })), 'InternalError');
      expect(String((errors.mock.calls[0]![1] as Error).message)).toMatch(/exports no resolvers/);
    } finally {
      errors.mockRestore();
      await closeLambdaDataSource();
    }
  });
});
