import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The README's tour, run as a new user would: `start` in the background, then the CLI in
// other processes against the same embedded Postgres.
describe('pg-cognition CLI', () => {
  let home: string;
  let server: ChildProcess;
  const env = () => ({ ...process.env, COGNITION_HOME: home, DATABASE_URL: '' });

  function cli(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], { cwd: ROOT, env: env() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  const json = async (...args: string[]) => {
    const r = await cli(...args, '--json');
    return { ...r, value: JSON.parse(r.stdout) as Record<string, unknown> & Record<string, never>[] };
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'pgc-cli-'));
    await chmod(home, 0o711);
    server = spawn(process.execPath, ['--import', 'tsx', BIN, 'start', '--app', 'notes', '--port', '0'], {
      cwd: ROOT,
      env: env(),
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`start did not get ready:\n${output}`)), 90_000);
      const onData = (d: Buffer) => {
        output += d;
        if (output.includes('pg-cognition is ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      server.stdout?.on('data', onData);
      server.stderr?.on('data', onData);
      server.on('exit', (code) => reject(new Error(`start exited with ${code}:\n${output}`)));
    });
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('walks the README tour: two tenants, two users, each confined to its tenant', async () => {
    expect((await cli('tenant', 'create', 'acme', '--name', 'Acme Corp')).code).toBe(0);
    expect((await cli('tenant', 'create', 'globex', '--name', 'Globex')).code).toBe(0);
    expect((await cli('user', 'invite', 'alice@acme.test', '--tenant', 'acme', '--role', 'admin')).code).toBe(
      0,
    );
    expect(
      (await cli('user', 'invite', 'bob@globex.test', '--tenant', 'globex', '--role', 'user')).code,
    ).toBe(0);
    const provisioned = await json('user', 'provision', 'alice@acme.test');
    expect(provisioned.value.created).toBe(true);
    expect(JSON.stringify(provisioned.value)).not.toMatch(/password/i);
    expect((await cli('user', 'provision', 'bob@globex.test')).code).toBe(0);

    const inserted = await json(
      'sql',
      '--as',
      'alice@acme.test',
      '--param',
      'acme plans',
      'insert into notes (title) values ($1) returning title',
    );
    expect(inserted.value.rows).toEqual([{ title: 'acme plans' }]);
    const bobNotes = await json('sql', '--as', 'bob@globex.test', 'select title from notes');
    expect(bobNotes.value.rows).toEqual([]);

    const denied = await cli('sql', '--as', 'bob@globex.test', 'select * from tenant_acme.notes');
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error ERR_PERMISSION_DENIED: /);
    const deniedCreds = await cli(
      'sql',
      '--mode',
      'credentials',
      '--as',
      'bob@globex.test',
      'select * from tenant_acme.notes',
    );
    expect(deniedCreds.stderr).toMatch(/ERR_PERMISSION_DENIED/);

    const own = await json('sql', '--as', 'bob@globex.test', 'select email from cognition.users');
    expect(own.value.rows).toEqual([{ email: 'bob@globex.test' }]);

    const tenants = await json('tenant', 'list');
    expect((tenants.value as unknown as { slug: string }[]).map((t) => t.slug)).toEqual([
      'acme',
      'demo',
      'globex',
    ]);
    const users = await json('user', 'list', '--tenant', 'acme');
    expect((users.value as unknown as { email: string }[]).map((u) => u.email)).toEqual(['alice@acme.test']);

    expect((await cli('user', 'suspend', 'bob@globex.test')).code).toBe(0);
    const suspended = await cli('sql', '--as', 'bob@globex.test', 'select 1');
    expect(suspended.stderr).toMatch(/ERR_USER_INACTIVE/);
  });

  it('reports bad input with stable codes and exit statuses', async () => {
    const badSlug = await cli('tenant', 'create', "x'; drop schema cognition; --", '--name', 'x');
    expect(badSlug.code).toBe(1);
    expect(badSlug.stderr).toMatch(/^error ERR_INVALID_SLUG: /);
    const dup = await json('tenant', 'create', 'acme', '--name', 'again');
    expect(dup.code).toBe(1);
    expect(dup.value).toMatchObject({ error: { code: 'ERR_TENANT_EXISTS' } });
    const usage = await cli('tenant', 'create', 'x');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/ERR_USAGE/);
    const unknown = await cli('frobnicate');
    expect(unknown.code).toBe(2);
    expect((await cli('user', 'invite', 'not-an-email', '--tenant', 'acme')).stderr).toMatch(
      /ERR_INVALID_EMAIL/,
    );
    expect((await cli('tenant', 'drop', 'acme')).code).toBe(2);
  });

  it('has help for every command', async () => {
    const overview = await cli('--help');
    expect(overview.code).toBe(0);
    for (const command of [
      'migrate',
      'tenant create',
      'tenant drop',
      'user invite',
      'user provision',
      'sql',
      'template migrate',
      'roles list',
      'roles declare',
    ]) {
      expect(overview.stdout).toContain(command);
      const help = await cli(...command.split(' '), '--help');
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain('Usage: pg-cognition');
    }
  });

  it('lists the tenant roles, and refuses to drop one that users hold', async () => {
    const list = await json('roles', 'list');
    expect(list.code).toBe(0);
    expect(list.value.map((r) => [r['name'], r['managesUsers']])).toEqual([
      ['admin', true],
      ['user', false],
    ]);
    const drop = await json('roles', 'declare', 'admin', 'Member');
    expect(drop.code).toBe(1);
    expect(drop.value).toMatchObject({ error: { code: 'ERR_ROLE_IN_USE' } });
    const bad = await cli('roles', 'declare', 'admin', 'user', '--read-only', 'admin');
    expect(bad.stderr).toMatch(/ERR_INVALID_ROLE/);
    const more = await json('roles', 'declare', 'admin', 'user', 'Viewer', '--read-only', 'Viewer');
    expect(more.code).toBe(0);
    expect(more.value.map((r) => r['name'])).toEqual(['admin', 'user', 'Viewer']);
    expect((await json('roles', 'declare', 'admin', 'user')).code).toBe(0);
  });

  it('migrate reports every migration as skipped the second time', async () => {
    const r = await json('migrate');
    expect(r.code).toBe(0);
    expect(r.value.applied).toBe(0);
  });
});
