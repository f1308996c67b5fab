import { describe, expect, it } from 'vitest';
import { AppSyncError } from '../../src/appsync/errors.js';
import {
  IdentityCache,
  identityConfig,
  oidcSubject,
  parseAssumedRoleArn,
  readIdentity,
} from '../../src/appsync/identity.js';
import type { CallerUser } from '../../src/appsync/types.js';
import { CognitionError } from '../../src/errors.js';
import {
  cognitoIdentity,
  fixture,
  FIXTURE_IAM_ROLE,
  FIXTURE_OIDC_ISSUER,
  FIXTURE_OIDC_SUB,
  FIXTURE_SUB,
  iamIdentity,
  oidcIdentity,
} from './helpers.js';

const ALICE = 'alice@acme.test';
const ID = '0b4f6c9e-8f2a-4d4e-9a51-6a0c1c2d3e4f';

function refused(run: () => unknown): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(AppSyncError);
  expect((error as AppSyncError).errorType).toBe('Unauthorized');
}

describe('AppSync identities', () => {
  const config = identityConfig({
    iamRoleArns: {
      'arn:aws:iam::123456789012:role/service/Deployer': ALICE,
      'arn:aws:iam::123456789012:user/ops': ID,
    },
    iamRoleNames: { [FIXTURE_IAM_ROLE]: ALICE },
    oidcIssuers: [FIXTURE_OIDC_ISSUER],
    lambdaAuthorizerKey: 'userId',
  });

  it('Cognito user pools: by sub', () => {
    const claim = readIdentity(fixture('invoke-cognito.json').identity, config);
    expect(claim).toEqual({
      kind: 'cognito',
      cacheKey: `cognito:${FIXTURE_SUB}`,
      refs: [{ subject: FIXTURE_SUB }],
    });
  });

  it('OIDC: by issuer and sub, only for listed issuers', () => {
    const subject = oidcSubject(FIXTURE_OIDC_ISSUER, FIXTURE_OIDC_SUB);
    expect(subject).toBe(`${FIXTURE_OIDC_ISSUER}#${FIXTURE_OIDC_SUB}`);
    expect(readIdentity(fixture('invoke-oidc.json').identity, config)).toEqual({
      kind: 'oidc',
      cacheKey: `oidc:${subject}`,
      refs: [{ subject }],
    });
    refused(() =>
      readIdentity(oidcIdentity('https://evil.example.com/oauth2/default', FIXTURE_OIDC_SUB), config),
    );
    refused(() => readIdentity(oidcIdentity(`${FIXTURE_OIDC_ISSUER}/`, FIXTURE_OIDC_SUB), config));
    refused(() => readIdentity(fixture('invoke-oidc.json').identity, identityConfig({})));
  });

  it('IAM: exact ARNs, role ARNs for every session, role names in any account', () => {
    const iam = (arn: string) => readIdentity(iamIdentity(arn), config);
    expect(iam('arn:aws:sts::123456789012:assumed-role/Deployer/ci-run-7')).toMatchObject({
      kind: 'iam',
      refs: [{ email: ALICE }],
    });
    expect(iam('arn:aws:iam::123456789012:user/ops')).toMatchObject({ refs: [{ id: ID }] });
    expect(iam(fixture('invoke-iam.json').identity.userArn)).toMatchObject({ refs: [{ email: ALICE }] });
    expect(iam(`arn:aws:sts::210987654321:assumed-role/${FIXTURE_IAM_ROLE}/other-session`)).toMatchObject({
      refs: [{ email: ALICE }],
    });
    // The role ARN pins its account; names must match exactly; other ARNs match nothing.
    refused(() => iam('arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-7'));
    refused(() => iam(`arn:aws:sts::123456789012:assumed-role/${FIXTURE_IAM_ROLE}X/s1`));
    refused(() => iam(`arn:aws:sts::123456789012:assumed-role/x${FIXTURE_IAM_ROLE}/s1`));
    refused(() => iam(`arn:aws:sts::123456789012:assumed-role/${FIXTURE_IAM_ROLE}`));
    refused(() => iam('arn:aws:iam::123456789012:user/ops2'));
    refused(() => iam('arn:aws:iam::123456789012:role/service/Deployer/extra'));
    expect(parseAssumedRoleArn('arn:aws-cn:sts::123456789012:assumed-role/R/s@x')).toEqual({
      partition: 'aws-cn',
      account: '123456789012',
      roleName: 'R',
      session: 's@x',
    });
  });

  it('Lambda authorizer: the configured resolverContext key, by user id or subject', () => {
    const context = fixture('lambda-authorizer-response.json').resolverContext;
    expect(readIdentity({ resolverContext: context }, config)).toEqual({
      kind: 'lambda',
      cacheKey: 'lambda:user-8472',
      refs: [{ subject: 'user-8472' }],
    });
    expect(readIdentity({ resolverContext: { userId: ID } }, config)).toMatchObject({
      refs: [{ id: ID }, { subject: ID }],
    });
    const byTenantKey = identityConfig({ lambdaAuthorizerKey: 'sub' });
    refused(() => readIdentity({ resolverContext: context }, byTenantKey));
    refused(() => readIdentity({ resolverContext: { userId: 42 } }, config));
  });

  it('API key: no identity', () => {
    expect(readIdentity(null, config)).toEqual({ kind: 'api-key', cacheKey: 'api-key' });
    expect(readIdentity(undefined, config)).toEqual({ kind: 'api-key', cacheKey: 'api-key' });
  });

  it('refuses shapes it does not know', () => {
    refused(() => readIdentity('alice', config));
    refused(() => readIdentity({ sub: '', username: 'x' }, config));
    refused(() => readIdentity({ userArn: 42 }, config));
    refused(() => readIdentity({ issuer: FIXTURE_OIDC_ISSUER }, config));
    expect(cognitoIdentity('x').sub).toBe('x');
  });

  it('checks its configuration at start', () => {
    const bad = (options: Parameters<typeof identityConfig>[0]) => () => identityConfig(options);
    expect(bad({ iamRoleNames: { R: 'not an email' } })).toThrow(CognitionError);
    expect(bad({ iamRoleArns: { Deployer: ALICE } })).toThrow(/not an ARN/);
    expect(bad({ iamRoleNames: { 'a/b': ALICE } })).toThrow(/role name/);
    expect(bad({ oidcIssuers: ['idp.example.com'] })).toThrow(/issuer/);
    expect(bad({ anonymousRole: 'cognition_owner' })).toThrow(/anonymousRole/);
    expect(bad({ anonymousRole: 'tenant_acme_users' })).toThrow(/anonymousRole/);
    expect(bad({ anonymousRole: 'Anon; drop' })).toThrow(/anonymousRole/);
    expect(bad({ anonymousRole: 'web_anon' })).not.toThrow();
  });
});

describe('IdentityCache', () => {
  const caller = (id: string): CallerUser => ({
    userId: id,
    dbUsername: id,
    schema: null,
    tenantId: null,
    role: 'user',
  });

  it('reuses a lookup for its time to live, and shares one in flight', async () => {
    let loads = 0;
    const load = async () => caller(`u${++loads}`);
    const cache = new IdentityCache(60_000, 10);
    const [a, b] = await Promise.all([cache.get('k', load), cache.get('k', load)]);
    expect(a).toBe(b);
    expect(await cache.get('k', load)).toBe(a);
    expect(loads).toBe(1);
    cache.delete('k');
    expect((await cache.get('k', load)).userId).toBe('u2');
  });

  it('expires entries, keeps none with a zero lifetime, and is bounded', async () => {
    let loads = 0;
    const load = async () => caller(`u${++loads}`);
    const none = new IdentityCache(0, 10);
    await none.get('k', load);
    await none.get('k', load);
    expect(loads).toBe(2);

    const short = new IdentityCache(20, 10);
    await short.get('k', load);
    await new Promise((r) => setTimeout(r, 40));
    await short.get('k', load);
    expect(loads).toBe(4);

    const small = new IdentityCache(60_000, 2);
    await small.get('a', load);
    await small.get('b', load);
    await small.get('c', load); // evicts a
    const before = loads;
    await small.get('b', load);
    await small.get('c', load);
    expect(loads).toBe(before);
    await small.get('a', load);
    expect(loads).toBe(before + 1);
  });

  it('does not keep failures', async () => {
    const cache = new IdentityCache(60_000, 10);
    await expect(cache.get('k', async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    expect((await cache.get('k', async () => caller('ok'))).userId).toBe('ok');
  });
});
