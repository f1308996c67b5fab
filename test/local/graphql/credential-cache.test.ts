import { describe, expect, it } from 'vitest';
import { CognitionError } from '../../../src/errors.js';
import type { VerifiedToken } from '../../../src/identity/token-verifier.js';
import { createAuthenticator, EXPIRED_TOKEN, UNPARSABLE_TOKEN } from '../../../src/local/graphql/auth.js';

// The authenticator remembers accepted Authorization values until their token's exp, so a
// repeated request skips hashing and verifying. It must never outlive the token, never keep a
// refusal, and never answer for another credential.

const EXP = 1_900_000_000; // seconds

function token(sub: string, groups: string[] = []): VerifiedToken {
  return Object.freeze({
    tokenUse: 'id',
    sub,
    username: sub,
    groups,
    claims: Object.freeze({ sub, iss: 'https://issuer.test', exp: EXP }),
    expiresAt: EXP,
  });
}

/** A verifier that accepts the tokens it knows, counting calls; its clock is the test's. */
function stubVerifier(clock: { now: number }) {
  const known = new Map<string, VerifiedToken>([
    ['token-a', token('a', ['editors'])],
    ['token-b', token('b')],
  ]);
  const calls: string[] = [];
  return {
    calls,
    verify: async (value: string): Promise<VerifiedToken> => {
      calls.push(value);
      const verified = known.get(value);
      if (verified && clock.now < verified.expiresAt * 1000) return verified;
      throw new CognitionError('ERR_INVALID_TOKEN', 'Invalid token', {
        safe: true,
        details: { reason: verified ? 'expired' : 'malformed' },
      });
    },
  };
}

describe('accepted credentials', () => {
  it('are answered from memory until the token expires, then verified again', async () => {
    const clock = { now: EXP * 1000 - 10_000 };
    const verifier = stubVerifier(clock);
    const auth = createAuthenticator({ verifier, now: () => clock.now });
    const first = await auth.authenticate({ authorization: 'Bearer token-a' });
    const second = await auth.authenticate({ authorization: 'Bearer token-a' });
    expect(first.ok && first.caller.groups).toEqual(['editors']);
    expect(second).toBe(first);
    expect(verifier.calls).toEqual(['token-a']);

    clock.now = EXP * 1000 - 1;
    expect(await auth.authenticate({ authorization: 'Bearer token-a' })).toBe(first);
    expect(verifier.calls).toHaveLength(1);

    // At exp exactly the entry is gone: the verifier decides again (and refuses).
    clock.now = EXP * 1000;
    expect(await auth.authenticate({ authorization: 'Bearer token-a' })).toEqual({
      ok: false,
      message: EXPIRED_TOKEN,
    });
    expect(verifier.calls).toEqual(['token-a', 'token-a']);
  });

  it('are kept per exact credential: another token is verified on its own', async () => {
    const clock = { now: EXP * 1000 - 10_000 };
    const verifier = stubVerifier(clock);
    const auth = createAuthenticator({ verifier, now: () => clock.now });
    const a = await auth.authenticate({ authorization: 'Bearer token-a' });
    const b = await auth.authenticate({ authorization: 'Bearer token-b' });
    expect(a.ok && a.caller.mode === 'AMAZON_COGNITO_USER_POOLS' && a.caller.token.sub).toBe('a');
    expect(b.ok && b.caller.mode === 'AMAZON_COGNITO_USER_POOLS' && b.caller.token.sub).toBe('b');
    expect(b.ok && b.caller.groups).toEqual([]);
    expect(verifier.calls).toEqual(['token-a', 'token-b']);
  });

  it('never keep a refusal', async () => {
    const clock = { now: EXP * 1000 - 10_000 };
    const verifier = stubVerifier(clock);
    const auth = createAuthenticator({ verifier, now: () => clock.now });
    for (let i = 0; i < 2; i++) {
      expect(await auth.authenticate({ authorization: 'Bearer forged' })).toEqual({
        ok: false,
        message: UNPARSABLE_TOKEN,
      });
    }
    expect(verifier.calls).toEqual(['forged', 'forged']);
  });

  it('are not kept for a token already expired by the cache clock', async () => {
    const clock = { now: EXP * 1000 - 10_000 };
    const verifier = stubVerifier(clock);
    // The verifier (own clock, or tolerance) accepts; the cache's clock is past exp.
    const auth = createAuthenticator({ verifier, now: () => EXP * 1000 + 1 });
    await auth.authenticate({ authorization: 'Bearer token-a' });
    await auth.authenticate({ authorization: 'Bearer token-a' });
    expect(verifier.calls).toHaveLength(2);
  });

  it('are bounded, oldest first out, and can be turned off', async () => {
    const clock = { now: EXP * 1000 - 10_000 };
    const verifier = stubVerifier(clock);
    const auth = createAuthenticator({ verifier, now: () => clock.now, cacheSize: 1 });
    await auth.authenticate({ authorization: 'Bearer token-a' });
    await auth.authenticate({ authorization: 'Bearer token-b' }); // evicts token-a
    await auth.authenticate({ authorization: 'Bearer token-a' });
    expect(verifier.calls).toEqual(['token-a', 'token-b', 'token-a']);

    const off = stubVerifier(clock);
    const uncached = createAuthenticator({ verifier: off, now: () => clock.now, cacheSize: 0 });
    await uncached.authenticate({ authorization: 'Bearer token-a' });
    await uncached.authenticate({ authorization: 'Bearer token-a' });
    expect(off.calls).toEqual(['token-a', 'token-a']);
    expect(() => createAuthenticator({ verifier: off, cacheSize: -1 })).toThrow(/credential cache size/);
  });
});
