import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toCognitoErrorMessage } from '../../src/cognito/errors.js';
import { createCognitoTriggers, type CognitoTriggers } from '../../src/cognito/triggers.js';
import { startStack, type TestStack } from '../support/stack.js';
import { eventFor, expectNoLeak, expectRejected, fixture } from './helpers.js';

/** The event is attacker-controlled input: every field is tried with what an attacker would send. */
describe('Cognito triggers under hostile input', () => {
  let stack: TestStack;
  let triggers: CognitoTriggers;
  const logged: { message: string; error: unknown }[] = [];

  const footprint = async () =>
    (
      await stack.cluster.admin.query<{ users: number; audit: number; roles: number }>(
        `select (select count(*)::int from cognition.users) as users,
                (select count(*)::int from cognition.audit_log) as audit,
                (select count(*)::int from pg_roles where rolname like 'u\\_%') as roles`,
      )
    ).rows[0];

  beforeAll(async () => {
    stack = await startStack();
    await stack.cognition.tenants.create({ slug: 'acme', name: 'Acme' });
    triggers = createCognitoTriggers({
      cognition: stack.cognition,
      log: (message, error) => logged.push({ message, error }),
    });
  });
  afterAll(async () => {
    await triggers?.close();
    await stack?.stop();
  });

  const signUp = (email: unknown) => eventFor('pre-signup.json', { email });
  const confirm = (attributes: Record<string, unknown>) =>
    eventFor('post-confirmation.json', { email_verified: 'true', ...attributes });
  const tokens = (attributes: Record<string, unknown>) =>
    eventFor('pre-token-generation-v2.json', attributes);

  it('rejects hostile and malformed emails with ERR_INVALID_EMAIL, creating nothing', async () => {
    const before = await footprint();
    const emails: unknown[] = [
      "x'; drop table cognition.users; --@evil.test",
      "' or 1=1 --@evil.test",
      'a@b',
      'no-at-sign',
      '@acme.test',
      `${'a'.repeat(300)}@acme.test`,
      `a@${'b'.repeat(300)}.test`,
      'zero\u200bwidth@acme.test',
      'new\nline@acme.test',
      'right\u202eto-left@acme.test',
      'two@@acme.test',
      42,
      true,
      { email: 'alice@acme.test' },
      ['alice@acme.test'],
    ];
    for (const email of emails) {
      for (const event of [signUp(email), confirm({ email, sub: randomUUID() })]) {
        const error = await expectRejected(triggers.handler(event), 'ERR_INVALID_EMAIL');
        expect(error.message).toBe('ERR_INVALID_EMAIL: the email address is not valid');
      }
    }
    expect(await footprint()).toEqual(before);
    expect(logged).toEqual([]);
  });

  it('rejects a missing email with ERR_INVALID_EMAIL', async () => {
    for (const email of [undefined, null, '']) {
      const error = await expectRejected(triggers.handler(signUp(email)), 'ERR_INVALID_EMAIL');
      expect(error.message).toBe('ERR_INVALID_EMAIL: an email address is required');
      // Without a bound sub, the email is how the user is found: no email, no user.
      await expectRejected(triggers.handler(tokens({ email, sub: randomUUID() })), 'ERR_INVALID_EMAIL');
    }
  });

  it('looks up valid but unusual emails as data, never as SQL', async () => {
    const before = await footprint();
    for (const email of [
      "o'brien@acme.test",
      "'or'1'='1@acme.test",
      'robert+tables@acme.test',
      '"quoted"@acme.test',
    ]) {
      await expectRejected(
        triggers.handler(signUp(email)),
        email.startsWith('"') ? 'ERR_INVALID_EMAIL' : 'ERR_NOT_INVITED',
      );
    }
    await stack.cognition.users.invite({ email: "O'Brien@acme.test", tenant: 'acme' });
    await expect(triggers.handler(signUp("o'brien@ACME.test"))).resolves.toBeDefined();
    // Pattern characters are not patterns: nobody is found by '%' or '_'.
    await expectRejected(triggers.handler(signUp('%@acme.test')), 'ERR_NOT_INVITED');
    await expectRejected(triggers.handler(signUp('o_brien@acme.test')), 'ERR_NOT_INVITED');
    expect((await footprint())!.users).toBe(before!.users + 1);
  });

  it('handles unicode emails (NFC and NFD spellings are the same address)', async () => {
    const nfc = 'zoë@exämple.test'.normalize('NFC');
    await stack.cognition.users.invite({ email: nfc, tenant: 'acme' });
    const sub = randomUUID();
    await expect(triggers.handler(signUp(nfc.normalize('NFD')))).resolves.toBeDefined();
    await triggers.handler(confirm({ email: nfc.normalize('NFD'), sub }));
    expect(await stack.cognition.users.find({ subject: sub })).toMatchObject({
      email: nfc,
      status: 'active',
    });
    await expectRejected(triggers.handler(signUp('zoe@example.test')), 'ERR_NOT_INVITED');
  });

  it('rejects hostile subjects with ERR_INVALID_EVENT, and binds nothing', async () => {
    await stack.cognition.users.invite({ email: 'sub.target@acme.test', tenant: 'acme' });
    const before = await footprint();
    for (const sub of [
      'x'.repeat(300),
      "' or 1=1 --",
      'tab\there',
      'ünïcode',
      '',
      42,
      null,
      undefined,
      { id: 1 },
    ]) {
      for (const event of [
        confirm({ email: 'sub.target@acme.test', sub }),
        tokens({ email: 'sub.target@acme.test', sub }),
        eventFor('pre-authentication.json', { email: 'sub.target@acme.test', sub }),
      ]) {
        const error = await expectRejected(triggers.handler(event), 'ERR_INVALID_EVENT');
        expect(error.message).toBe('ERR_INVALID_EVENT: the request is malformed');
      }
    }
    expect(await footprint()).toEqual(before);
  });

  it('treats a quote-laden but well-formed subject as an opaque value', async () => {
    await stack.cognition.users.invite({ email: 'quote.sub@acme.test', tenant: 'acme' });
    const sub = `'or'1'='1;--"\\`;
    await triggers.handler(confirm({ email: 'quote.sub@acme.test', sub }));
    expect(await stack.cognition.users.find({ subject: sub })).toMatchObject({
      email: 'quote.sub@acme.test',
    });
    const { response } = await triggers.handler(tokens({ email: 'ignored@acme.test', sub }));
    expect(response.claimsAndScopeOverrideDetails.groupOverrideDetails.groupsToOverride).toEqual(['user']);
  });

  it('only trusts email_verified when it is exactly "true"', async () => {
    const user = await stack.cognition.users.invite({ email: 'verify@acme.test', tenant: 'acme' });
    for (const verified of ['false', 'FALSE', 'True', '1', 'yes', ' true', '', null, 'true\n']) {
      await expectRejected(
        triggers.handler(confirm({ email: 'verify@acme.test', sub: randomUUID(), email_verified: verified })),
        'ERR_EMAIL_NOT_VERIFIED',
      );
      await expectRejected(
        triggers.handler(tokens({ email: 'verify@acme.test', sub: randomUUID(), email_verified: verified })),
        'ERR_EMAIL_NOT_VERIFIED',
      );
    }
    expect(await stack.cognition.users.require(user.id)).toMatchObject({
      status: 'invited',
      idpSubject: null,
    });
    // The sign-up itself needs no verified email: Cognito verifies it after PreSignUp.
    await expect(
      triggers.handler(eventFor('pre-signup.json', { email: 'verify@acme.test', email_verified: 'false' })),
    ).resolves.toBeDefined();
  });

  it('ignores hostile values in attributes it does not read', async () => {
    await stack.cognition.users.invite({ email: 'noisy@acme.test', tenant: 'acme' });
    const noise = {
      name: "Robert'); drop table cognition.users;--",
      given_name: 'x'.repeat(300),
      family_name: 'Ω≈ç√∫˜µ≤≥÷ 𝕿𝖍𝖊 \u0000 \u202e',
      'custom:tenant_id': "' or tenant_id is not null --",
      'custom:role': 'application_admin',
      'cognito:groups': 'application_admin',
      tenant_role: 'application_admin',
    };
    // As JSON.parse builds it: an own "__proto__" key, as a hostile payload would carry.
    const withProto = <T extends { request: { userAttributes: object } }>(event: T): T => {
      const text = JSON.stringify(event.request.userAttributes).replace(
        '{',
        '{"__proto__":{"polluted":true},',
      );
      event.request.userAttributes = JSON.parse(text) as object;
      return event;
    };
    const sub = randomUUID();
    await triggers.handler(withProto(eventFor('pre-signup.json', { email: 'noisy@acme.test', ...noise })));
    await triggers.handler(withProto(confirm({ email: 'noisy@acme.test', sub, ...noise })));
    const { response } = await triggers.handler(
      withProto(tokens({ email: 'noisy@acme.test', sub, ...noise })),
    );
    const details = response.claimsAndScopeOverrideDetails;
    // Role and tenant come from the database, whatever the attributes claim.
    expect(details.groupOverrideDetails.groupsToOverride).toEqual(['user']);
    expect(details.idTokenGeneration.claimsToAddOrOverride.tenant_role).toBe('user');
    expect(details.idTokenGeneration.claimsToAddOrOverride.tenant_slug).toBe('acme');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects malformed events with ERR_INVALID_EVENT or ERR_UNSUPPORTED_TRIGGER, never a crash', async () => {
    const malformed: [unknown, string][] = [
      [null, 'ERR_UNSUPPORTED_TRIGGER'],
      [undefined, 'ERR_UNSUPPORTED_TRIGGER'],
      ['PreSignUp_SignUp', 'ERR_UNSUPPORTED_TRIGGER'],
      [[], 'ERR_UNSUPPORTED_TRIGGER'],
      [{}, 'ERR_UNSUPPORTED_TRIGGER'],
      [{ triggerSource: '__proto__' }, 'ERR_UNSUPPORTED_TRIGGER'],
      [{ triggerSource: 'toString' }, 'ERR_UNSUPPORTED_TRIGGER'],
      [{ triggerSource: ['PreSignUp_SignUp'] }, 'ERR_UNSUPPORTED_TRIGGER'],
      [{ triggerSource: 'PreSignUp_SignUp' }, 'ERR_INVALID_EVENT'],
      [{ triggerSource: 'PreSignUp_SignUp', request: null }, 'ERR_INVALID_EVENT'],
      [{ triggerSource: 'PreSignUp_SignUp', request: { userAttributes: [] } }, 'ERR_INVALID_EVENT'],
      [
        { triggerSource: 'PreSignUp_SignUp', request: { userAttributes: 'email=a@b.test' } },
        'ERR_INVALID_EVENT',
      ],
      [{ triggerSource: 'PostConfirmation_ConfirmSignUp', request: {} }, 'ERR_INVALID_EVENT'],
      [{ triggerSource: 'PreAuthentication_Authentication', request: [] }, 'ERR_INVALID_EVENT'],
      [{ triggerSource: 'TokenGeneration_RefreshTokens', version: '1', request: {} }, 'ERR_INVALID_EVENT'],
      [
        { triggerSource: 'TokenGeneration_RefreshTokens', version: {}, request: {} },
        'ERR_UNSUPPORTED_TRIGGER',
      ],
    ];
    for (const [event, code] of malformed) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      await expectRejected(triggers.handler(event as any), code as 'ERR_INVALID_EVENT');
    }
  });

  it('turns unexpected failures into ERR_INTERNAL with a logged reference, without internals', async () => {
    logged.length = 0;
    const offline = createCognitoTriggers({
      databaseUrl: 'postgres://admin:s3cret-password@127.0.0.1:1/app',
      secrets: stack.secrets,
      log: (message, error) => logged.push({ message, error }),
    });
    try {
      const events = [
        eventFor('pre-signup.json', { email: 'alice@acme.test' }),
        confirm({ email: 'alice@acme.test', sub: randomUUID() }),
        eventFor('pre-authentication.json', { email: 'alice@acme.test', sub: randomUUID() }),
        tokens({ email: 'alice@acme.test', sub: randomUUID() }),
      ];
      const refs = new Set<string>();
      for (const [i, event] of events.entries()) {
        const error = await expectRejected(offline.handler(event), 'ERR_INTERNAL');
        expect(error.message).toMatch(/^ERR_INTERNAL: internal error \(ref [0-9a-f]{16}\)$/);
        expect(error.stack ?? '').not.toMatch(/ECONNREFUSED|pg-pool|node-postgres/);
        expect(error).not.toHaveProperty('cause');
        refs.add(error.ref!);
        // The real error is logged under the same reference, for the operator.
        expect(logged[i]?.message).toContain(error.ref!);
        expect(String((logged[i]?.error as Error).message)).toMatch(/ECONNREFUSED|connect/);
        const client = toCognitoErrorMessage('PreSignUp', error);
        expect(client).toBe(`PreSignUp failed with error ERR_INTERNAL: internal error (ref ${error.ref}).`);
        expectNoLeak(client);
      }
      expect(refs.size).toBe(4);
    } finally {
      await offline.close();
    }
  });

  // Last: stops the database under the triggers.
  it('answers ERR_INTERNAL when the database goes away mid-test', async () => {
    const sub = randomUUID();
    await stack.cognition.users.invite({ email: 'last@acme.test', tenant: 'acme' });
    await triggers.handler(confirm({ email: 'last@acme.test', sub }));
    await expect(triggers.handler(tokens({ email: 'last@acme.test', sub }))).resolves.toBeDefined();
    logged.length = 0;
    await stack.cluster.admin.end();
    await stack.cluster.server.stop();
    for (const event of [
      tokens({ email: 'last@acme.test', sub }),
      eventFor('pre-authentication.json', { email: 'last@acme.test', sub }),
      fixture('pre-signup.json'),
    ]) {
      const error = await expectRejected(triggers.handler(event), 'ERR_INTERNAL');
      expect(error.message).toMatch(/^ERR_INTERNAL: internal error \(ref [0-9a-f]{16}\)$/);
    }
    expect(logged).toHaveLength(3);
  });
});
