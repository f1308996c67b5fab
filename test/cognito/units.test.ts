import { describe, expect, it } from 'vitest';
import type { Cognition } from '../../src/cognition.js';
import {
  CognitoTriggerError,
  toCognitoErrorMessage,
  toTriggerError,
  triggerNameOf,
} from '../../src/cognito/errors.js';
import { createCognitoTriggers } from '../../src/cognito/triggers.js';
import { CognitionError } from '../../src/errors.js';
import type { Tenant } from '../../src/tenancy/tenants.js';
import type { User, UserRef } from '../../src/users/users.js';
import { eventFor, expectNoLeak, expectRejected } from './helpers.js';

const SUB = '7d3c1e2a-0000-4000-8000-000000000001';

function userLike(changes: Partial<User> = {}): User {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    tenantId: '22222222-2222-4222-8222-222222222222',
    tenantSlug: 'acme',
    tenantSchema: 'tenant_acme',
    email: 'alice@acme.test',
    role: 'user',
    status: 'active',
    givenName: null,
    familyName: null,
    preferences: {},
    dbUsername: 'u_abcdefghijklmnopqrstuvwx',
    idpSubject: SUB,
    createdAt: new Date(),
    activatedAt: new Date(),
    ...changes,
  };
}

/** A Cognition stand-in that records each lookup, for what the database cannot stage on cue. */
function stub(options: {
  bySubject?: User;
  byEmail?: User;
  tenant?: Partial<Tenant>;
  find?: (ref: UserRef) => Promise<User | undefined>;
}) {
  const calls: string[] = [];
  const cognition = {
    users: {
      find: async (ref: UserRef) => {
        calls.push(typeof ref === 'object' && 'subject' in ref ? 'users.find(subject)' : 'users.find(email)');
        if (options.find) return options.find(ref);
        return typeof ref === 'object' && 'subject' in ref ? options.bySubject : options.byEmail;
      },
      provision: async (_ref: UserRef, { subject }: { subject: string }) => {
        calls.push('users.provision');
        return {
          user: { ...(options.bySubject ?? options.byEmail), status: 'active', idpSubject: subject },
          created: true,
        };
      },
    },
    tenants: {
      get: async () => {
        calls.push('tenants.get');
        return { status: 'active', ...options.tenant };
      },
    },
    close: async () => {},
  } as unknown as Cognition;
  return { cognition, calls };
}

describe('toCognitoErrorMessage', () => {
  it("builds Cognito's client-visible text from a trigger error", () => {
    const error = new CognitoTriggerError('ERR_USER_INACTIVE');
    expect(toCognitoErrorMessage('PreAuthentication', error)).toBe(
      'PreAuthentication failed with error ERR_USER_INACTIVE: this user is suspended.',
    );
  });

  it('never passes on a message that is not in the CODE: text form', () => {
    for (const error of [
      new Error('relation "cognition.users" does not exist'),
      new Error('ERR_X: select * from cognition.users\n    at Pool.query (pg-pool/index.js:45:11)'),
      Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      'a string',
      undefined,
    ]) {
      const message = toCognitoErrorMessage('PreSignUp', error);
      expect(message).toBe('PreSignUp failed with error ERR_INTERNAL: internal error.');
    }
  });
});

describe('toTriggerError', () => {
  it('keeps the code of safe lower-layer errors but none of their text', () => {
    const error = toTriggerError(
      new CognitionError('ERR_USER_EXISTS', 'a user with email alice@acme.test already exists'),
      'PreSignUp',
      () => {},
    );
    expect(error.message).toBe('ERR_USER_EXISTS: this email has already signed up');
  });

  it('masks unsafe lower-layer errors and foreign errors as ERR_INTERNAL, logging them with the ref', () => {
    const logged: [string, unknown][] = [];
    const causes = [
      new CognitionError(
        'ERR_CONSTRAINT',
        'duplicate key value violates unique constraint "users_idp_subject_key"',
      ),
      new CognitionError('ERR_SQL', 'syntax error at or near "select"'),
      new CognitionError('ERR_PERMISSION_DENIED', 'permission denied for table users'),
      new TypeError("Cannot read properties of undefined (reading 'email')"),
      'thrown string',
    ];
    for (const cause of causes) {
      const error = toTriggerError(cause, 'PostConfirmation', (m, e) => logged.push([m, e]));
      expect(error.code).toBe('ERR_INTERNAL');
      expect(error.message).toBe(`ERR_INTERNAL: internal error (ref ${error.ref})`);
      expect(logged.at(-1)).toEqual([
        `pg-cognition: PostConfirmation trigger failed: ERR_INTERNAL ref ${error.ref}`,
        cause,
      ]);
      expectNoLeak(error.message);
    }
    expect(logged).toHaveLength(causes.length);
  });

  it('survives a logger that throws', () => {
    const error = toTriggerError(new Error('boom'), 'PreSignUp', () => {
      throw new Error('log sink down');
    });
    expect(error.code).toBe('ERR_INTERNAL');
  });
});

describe('triggerNameOf', () => {
  it('names the trigger of each source, and no other', () => {
    expect(triggerNameOf('PreSignUp_ExternalProvider')).toBe('PreSignUp');
    expect(triggerNameOf('PostConfirmation_ConfirmForgotPassword')).toBe('PostConfirmation');
    expect(triggerNameOf('PreAuthentication_Authentication')).toBe('PreAuthentication');
    expect(triggerNameOf('TokenGeneration_RefreshTokens')).toBe('PreTokenGeneration');
    expect(triggerNameOf('PostAuthentication_Authentication')).toBeUndefined();
    expect(triggerNameOf('constructor')).toBeUndefined();
  });
});

describe('triggers against a scripted database', () => {
  it('does one lookup by sub and one for the tenant per token, and nothing else', async () => {
    const { cognition, calls } = stub({ bySubject: userLike() });
    const triggers = createCognitoTriggers({ cognition });
    await triggers.handler(eventFor('pre-token-generation-v2.json', { sub: SUB }));
    expect(calls).toEqual(['users.find(subject)', 'tenants.get']);
    calls.length = 0;
    await triggers.handler(eventFor('pre-authentication.json', { sub: SUB }));
    expect(calls).toEqual(['users.find(subject)', 'tenants.get']);
    calls.length = 0;
    await expectRejected(
      triggers.handler(eventFor('pre-signup.json', { email: 'alice@acme.test' })),
      'ERR_NOT_INVITED',
    );
    expect(calls).toEqual(['users.find(email)']);
  });

  it('does a single lookup for an application admin (no tenant)', async () => {
    const admin = userLike({
      tenantId: null,
      tenantSlug: null,
      tenantSchema: null,
      role: 'application_admin',
    });
    const { cognition, calls } = stub({ bySubject: admin });
    const triggers = createCognitoTriggers({ cognition });
    const { response } = await triggers.handler(
      eventFor('pre-token-generation-v1.json', { sub: SUB }, { response: {} }),
    );
    expect(calls).toEqual(['users.find(subject)']);
    expect(response.claimsOverrideDetails.claimsToAddOrOverride).toEqual({
      tenant_role: 'application_admin',
    });
  });

  it('accepts a user that a concurrent retry bound to this very sub between the two lookups', async () => {
    // What 5 concurrent confirmations can interleave into: not found by sub, then found by
    // email already bound to the same sub.
    const { cognition, calls } = stub({ bySubject: undefined, byEmail: userLike() });
    const triggers = createCognitoTriggers({ cognition });
    await expect(triggers.handler(eventFor('post-confirmation.json', { sub: SUB }))).resolves.toBeDefined();
    expect(calls).toEqual(['users.find(subject)', 'users.find(email)', 'tenants.get', 'users.provision']);
    const other = stub({ bySubject: undefined, byEmail: userLike({ idpSubject: 'someone-else' }) });
    await expectRejected(
      createCognitoTriggers({ cognition: other.cognition }).handler(
        eventFor('post-confirmation.json', { sub: SUB }),
      ),
      'ERR_IDENTITY_MISMATCH',
    );
    expect(other.calls).not.toContain('users.provision');
  });

  it('gives up with ERR_INTERNAL before Cognito would time out', async () => {
    const logged: unknown[] = [];
    const { cognition } = stub({ find: () => new Promise<never>(() => {}) });
    const triggers = createCognitoTriggers({ cognition, timeoutMs: 50, log: (_m, e) => logged.push(e) });
    const started = Date.now();
    await expectRejected(
      triggers.handler(eventFor('pre-token-generation-v1.json', { sub: SUB })),
      'ERR_INTERNAL',
    );
    expect(Date.now() - started).toBeLessThan(2000);
    expect(String(logged[0])).toMatch(/did not finish within 50 ms/);
  });

  it('masks a database error that quotes SQL', async () => {
    const { cognition } = stub({
      find: async () => {
        throw Object.assign(new Error('syntax error at or near "select" in select * from cognition.users'), {
          code: '42601',
        });
      },
    });
    const triggers = createCognitoTriggers({ cognition, log: () => {} });
    const error = await expectRejected(triggers.handler(eventFor('pre-signup.json', {})), 'ERR_INTERNAL');
    expect(error.message).not.toContain('syntax');
  });

  it('can be told to trust unverified emails (for providers that never send email_verified)', async () => {
    const invited = userLike({ status: 'invited', idpSubject: null, dbUsername: null });
    const strict = stub({ byEmail: invited });
    await expectRejected(
      createCognitoTriggers({ cognition: strict.cognition }).handler(
        eventFor('post-confirmation.json', { sub: SUB, email_verified: undefined }),
      ),
      'ERR_EMAIL_NOT_VERIFIED',
    );
    const lenient = stub({ byEmail: invited });
    await createCognitoTriggers({ cognition: lenient.cognition, requireVerifiedEmail: false }).handler(
      eventFor('post-confirmation.json', { sub: SUB, email_verified: undefined }),
    );
    expect(lenient.calls).toContain('users.provision');
  });

  it('does not close a Cognition it was given', async () => {
    let closed = false;
    const { cognition } = stub({});
    (cognition as unknown as { close: () => Promise<void> }).close = async () => {
      closed = true;
    };
    await createCognitoTriggers({ cognition }).close();
    expect(closed).toBe(false);
  });
});
