import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'src/cli/bin.ts');

// The main command as a person runs it: start the stack with the agents application, log in,
// run a GraphQL query, press Ctrl-C, and find nothing left running.
describe('pg-cognition start --app agents', () => {
  let home: string;
  let server: ChildProcess | undefined;

  afterAll(async () => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('serves an authorized GraphQL query, then stops cleanly on SIGINT', async () => {
    home = await mkdtemp(join(tmpdir(), 'pgc-start-'));
    await chmod(home, 0o711);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', BIN, 'start', '--app', 'agents', '--port', '0'],
      {
        cwd: ROOT,
        env: { ...process.env, COGNITION_HOME: home, DATABASE_URL: '' },
      },
    );
    server = child;
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d));
    child.stderr?.on('data', (d: Buffer) => (output += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready:\n${output}`)), 120_000);
      const poll = setInterval(() => {
        if (output.includes('Press Ctrl-C to stop.')) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 100);
      child.on('exit', (code) => {
        clearInterval(poll);
        reject(new Error(`exited with ${code}:\n${output}`));
      });
    });
    const password = /password (\S+)\)/.exec(output)?.[1] as string;
    const info = JSON.parse(await readFile(join(home, 'stack.json'), 'utf8')) as {
      userPool: { url: string; clientId: string };
      graphql: { url: string };
    };
    const auth = await fetch(info.userPool.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth',
      },
      body: JSON.stringify({
        ClientId: info.userPool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: 'moneypenny@mi6.test', PASSWORD: password },
      }),
    });
    const token = ((await auth.json()) as { AuthenticationResult: { IdToken: string } }).AuthenticationResult
      .IdToken;
    const response = await fetch(info.graphql.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: token },
      body: JSON.stringify({ query: '{ agents { codename } }' }),
    });
    const body = (await response.json()) as { data: { agents: { codename: string }[] } };
    expect(body.data.agents.map((a) => a.codename).sort()).toEqual(['007', '009']);

    const postmaster = join(home, 'postgres', 'data', 'postmaster.pid');
    const pgPid = Number((await readFile(postmaster, 'utf8')).split('\n')[0]);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
    // Postgres is gone too: its pid file removed and its process no longer alive.
    expect(existsSync(postmaster)).toBe(false);
    expect(() => process.kill(pgPid, 0)).toThrow();
  });
});
