import {
  AdminGetUserCommand,
  GetUserCommand,
  SignUpCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type {
  PostConfirmationTriggerEvent,
  PreAuthenticationTriggerEvent,
  PreSignUpTriggerEvent,
  PreTokenGenerationV2TriggerEvent,
} from 'aws-lambda';
import { request } from 'node:http';
import { readFile, rm, stat } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../src/local/free-port.js';
import { startUserPool } from '../../../src/local/user-pool/index.js';
import {
  codesOf,
  decodeHeader,
  decodePayload,
  expectError,
  login,
  PASSWORD,
  refresh,
  signUpAndConfirm,
  startTestPool,
  tempDir,
  uniqueEmail,
  verifiersFor,
} from './support.js';

describe('identity and persistence', () => {
  it('generates pool and client ids on first start and keeps everything across a restart', async () => {
    const dir = await tempDir();
    const port = await freePort();
    try {
      const first = await startTestPool({ dir, port });
      const { poolId, clientId, issuer } = first.pool;
      expect(poolId).toMatch(/^local_[0-9A-Za-z]{9}$/);
      expect(clientId).toMatch(/^[0-9a-z]{26}$/);
      const email = await signUpAndConfirm(first);
      const tokens = await login(first, email);
      const jwks = await (await fetch(first.pool.jwksUri)).json();
      await first.close();

      for (const file of ['pool.json', 'keys.json']) {
        expect((await stat(join(dir, file))).mode & 0o777, file).toBe(0o600);
      }
      expect((await stat(dir)).mode & 0o077).toBe(0);
      const stored = await readFile(join(dir, 'pool.json'), 'utf8');
      // Passwords are hashed with scrypt; refresh tokens are stored hashed.
      expect(stored).not.toContain(PASSWORD);
      expect(stored).toContain('scrypt$');
      expect(stored).not.toContain(tokens.RefreshToken ?? 'missing');

      const second = await startTestPool({ dir, port });
      try {
        expect(second.pool.poolId).toBe(poolId);
        expect(second.pool.clientId).toBe(clientId);
        expect(second.pool.issuer).toBe(issuer);
        expect(await (await fetch(second.pool.jwksUri)).json()).toEqual(jwks);
        // Tokens issued before the restart still verify and still work.
        const verifiers = await verifiersFor(second.pool);
        await verifiers.id.verify(tokens.IdToken ?? '');
        expect(
          (await second.client.send(new GetUserCommand({ AccessToken: tokens.AccessToken }))).Username,
        ).toBe(email);
        const renewed = await refresh(second, tokens.RefreshToken ?? '');
        expect(decodePayload(renewed.IdToken)['origin_jti']).toBe(
          decodePayload(tokens.IdToken)['origin_jti'],
        );
        expect((await login(second, email)).AccessToken).toBeDefined();
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps unconfirmed users and their codes across a restart', async () => {
    const dir = await tempDir();
    try {
      const first = await startTestPool({ dir });
      const email = uniqueEmail();
      await first.client.send(
        new SignUpCommand({ ClientId: first.pool.clientId, Username: email, Password: PASSWORD }),
      );
      const code = (await codesOf(first.pool, email)).codes.confirmSignUp?.code;
      await first.close();
      const second = await startTestPool({ dir });
      try {
        expect((await codesOf(second.pool, email)).codes.confirmSignUp?.code).toBe(code);
        const user = await second.client.send(
          new AdminGetUserCommand({ UserPoolId: second.pool.poolId, Username: email }),
        );
        expect(user.UserStatus).toBe('UNCONFIRMED');
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes pool and client ids and a region from the options; each installation has its own keys', async () => {
    const a = await startTestPool({ poolId: 'eu-west-1_AbCdEfGhI', clientId: 'myclient123' });
    const b = await startTestPool({ region: 'eu-west-1' });
    try {
      expect(a.pool.poolId).toBe('eu-west-1_AbCdEfGhI');
      expect(a.pool.clientId).toBe('myclient123');
      expect(b.pool.poolId).toMatch(/^eu-west-1_[0-9A-Za-z]{9}$/);
      const keysOf = async (url: string) =>
        ((await (await fetch(url)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);
      const [aKeys, bKeys] = [await keysOf(a.pool.jwksUri), await keysOf(b.pool.jwksUri)];
      expect(aKeys).toHaveLength(2);
      expect(new Set(aKeys).size).toBe(2);
      expect(aKeys.filter((kid) => bKeys.includes(kid))).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
    const dir = await tempDir();
    await expect(startUserPool({ dir, poolId: 'no-underscore' })).rejects.toThrow(/pool id/);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('HTTP endpoints', () => {
  it('serves the JWKS and the OpenID configuration under the pool id', async () => {
    const t = await startTestPool();
    try {
      const jwks = (await (await fetch(t.pool.jwksUri)).json()) as { keys: Record<string, string>[] };
      expect(jwks.keys).toHaveLength(2);
      for (const key of jwks.keys) {
        expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
        expect(key['d']).toBeUndefined(); // no private parts
        expect(key['p']).toBeUndefined();
      }
      const tokens = await login(t, await signUpAndConfirm(t));
      expect(jwks.keys.map((key) => key['kid'])).toEqual(
        expect.arrayContaining([
          decodeHeader(tokens.IdToken)['kid'],
          decodeHeader(tokens.AccessToken)['kid'],
        ]),
      );

      const discovery = await fetch(`${t.pool.issuer}/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect(await discovery.json()).toMatchObject({
        issuer: t.pool.issuer,
        jwks_uri: t.pool.jwksUri,
        id_token_signing_alg_values_supported: ['RS256'],
        subject_types_supported: ['public'],
        response_types_supported: expect.arrayContaining(['code']),
      });
      expect((await fetch(`${t.pool.url}/local_Other1234/.well-known/jwks.json`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  it('answers /_local/codes only to loopback callers that address it by a loopback name', async () => {
    const t = await startTestPool({ host: '0.0.0.0' });
    try {
      const email = uniqueEmail();
      await t.client.send(
        new SignUpCommand({ ClientId: t.pool.clientId, Username: email, Password: PASSWORD }),
      );
      const get = (host: string, path: string, headers: Record<string, string> = {}) =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host, port: t.pool.port, path, headers }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          req.on('error', reject);
          req.end();
        });
      const path = `/_local/codes?username=${encodeURIComponent(email)}`;
      expect(await get('127.0.0.1', path)).toBe(200);
      expect(await get('127.0.0.1', path, { host: `localhost:${t.pool.port}` })).toBe(200);
      // A DNS-rebinding page reaches loopback under its own name.
      expect(await get('127.0.0.1', path, { host: `evil.example:${t.pool.port}` })).toBe(403);
      expect(await get('127.0.0.1', '/_local/codes?username=nobody%40example.com')).toBe(404);
      const external = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal);
      if (external) {
        expect(await get(external.address, path, { host: `localhost:${t.pool.port}` })).toBe(403);
      }
      const response = await fetch(`http://127.0.0.1:${t.pool.port}${path}`, {
        headers: { origin: 'https://evil.example' },
      });
      // No CORS header: a web page cannot read the codes.
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await t.close();
    }
  });

  it('answers CORS preflights for browser SDKs', async () => {
    const t = await startTestPool();
    try {
      const response = await fetch(t.pool.url, {
        method: 'OPTIONS',
        headers: { origin: 'http://localhost:5173', 'access-control-request-headers': 'x-amz-target' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(response.headers.get('access-control-allow-headers')).toContain('x-amz-target');
    } finally {
      await t.close();
    }
  });
});

describe('trigger typing', () => {
  it('accepts a handler typed with @types/aws-lambda', async () => {
    const seen: string[] = [];
    const handler = async (
      event:
        | PreSignUpTriggerEvent
        | PostConfirmationTriggerEvent
        | PreAuthenticationTriggerEvent
        | PreTokenGenerationV2TriggerEvent,
    ) => {
      seen.push(event.triggerSource);
      return event;
    };
    const t = await startTestPool({ triggers: handler });
    try {
      await login(t, await signUpAndConfirm(t));
      expect(seen).toEqual([
        'PreSignUp_SignUp',
        'PostConfirmation_ConfirmSignUp',
        'PreAuthentication_Authentication',
        'TokenGeneration_Authentication',
      ]);
    } finally {
      await t.close();
    }
  });
});

describe('operations', () => {
  it('GetUser refuses an empty access token', async () => {
    const t = await startTestPool();
    try {
      await expectError(t.client.send(new GetUserCommand({ AccessToken: '' })), 'InvalidParameterException');
    } finally {
      await t.close();
    }
  });
});
