import type { UserRef, User } from '../users/users.js';
import { CognitionError } from '../errors.js';
import { validateEmail } from '../users/validation.js';
import { unauthorized } from './errors.js';
import type { CallerUser, IdentityOptions } from './types.js';

/** The authorization mode an AppSync identity comes from. */
export type IdentityKind = 'cognito' | 'iam' | 'oidc' | 'lambda' | 'api-key';

/** What an identity says about who is calling, before any lookup. */
export type IdentityClaim =
  | { kind: Exclude<IdentityKind, 'api-key'>; cacheKey: string; refs: UserRef[] }
  | { kind: 'api-key'; cacheKey: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// arn:<partition>:sts::<account>:assumed-role/<RoleName>/<session>
const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{2,64})$/;
// arn:<partition>:iam::<account>:role[/path]/<RoleName>
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?([\w+=,.@-]{1,64})$/;
// A Postgres role name pg-cognition does not manage.
const ROLE_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;
const MANAGED_ROLE = /^(pg_|cognition_|tenant_|application_admins$|u_[a-z0-9]{24}$)/;
const MAX_VALUE = 1024;

/** The subject under which a user is bound to an OIDC identity: `<issuer>#<sub>`. */
export function oidcSubject(issuer: string, sub: string): string {
  return `${issuer}#${sub}`;
}

/** The parts of an STS assumed-role ARN, or undefined for any other ARN. */
export function parseAssumedRoleArn(
  arn: string,
): { partition: string; account: string; roleName: string; session: string } | undefined {
  const m = ASSUMED_ROLE.exec(arn);
  if (!m) return undefined;
  return { partition: m[1]!, account: m[2]!, roleName: m[3]!, session: m[4]! };
}

/** The identity options, checked once so that a typo fails at start rather than per request. */
export interface IdentityConfig {
  /** Exact ARNs (IAM users, single sessions, role ARNs as written). */
  exactArns: Map<string, string>;
  /** Role ARNs by `<partition>:<account>:<RoleName>`, matching every session. */
  roles: Map<string, string>;
  roleNames: Map<string, string>;
  oidcIssuers: Set<string>;
  lambdaAuthorizerKey: string;
  anonymousRole: string | undefined;
  anonymousSchema: string | null;
}

export function identityConfig(options: IdentityOptions = {}): IdentityConfig {
  const exactArns = new Map<string, string>();
  const roles = new Map<string, string>();
  for (const [arn, user] of Object.entries(options.iamRoleArns ?? {})) {
    checkUserRef(user, `iamRoleArns["${arn}"]`);
    exactArns.set(arn, user);
    const m = ROLE_ARN.exec(arn);
    if (m) roles.set(`${m[1]}:${m[2]}:${m[3]}`, user);
    else if (!arn.startsWith('arn:')) throw config(`iamRoleArns: "${arn}" is not an ARN`);
  }
  const roleNames = new Map<string, string>();
  for (const [name, user] of Object.entries(options.iamRoleNames ?? {})) {
    checkUserRef(user, `iamRoleNames["${name}"]`);
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) throw config(`iamRoleNames: "${name}" is not an IAM role name`);
    roleNames.set(name, user);
  }
  const oidcIssuers = new Set<string>();
  for (const issuer of options.oidcIssuers ?? []) {
    if (typeof issuer !== 'string' || !/^https?:\/\/[^\s#]+$/.test(issuer)) {
      throw config(`oidcIssuers: "${String(issuer)}" is not an issuer URL`);
    }
    oidcIssuers.add(issuer);
  }
  const lambdaAuthorizerKey = options.lambdaAuthorizerKey ?? 'userId';
  if (typeof lambdaAuthorizerKey !== 'string' || !lambdaAuthorizerKey) {
    throw config('lambdaAuthorizerKey must be a non-empty string');
  }
  const anonymousRole = options.anonymousRole;
  if (anonymousRole !== undefined && (!ROLE_NAME.test(anonymousRole) || MANAGED_ROLE.test(anonymousRole))) {
    throw config('anonymousRole must be a plain role name that pg-cognition does not manage');
  }
  return {
    exactArns,
    roles,
    roleNames,
    oidcIssuers,
    lambdaAuthorizerKey,
    anonymousRole,
    anonymousSchema: options.anonymousSchema ?? null,
  };
}

function checkUserRef(user: unknown, where: string): void {
  if (typeof user === 'string' && UUID.test(user)) return;
  try {
    validateEmail(user);
  } catch {
    throw config(`${where} must name a user by email or id`);
  }
}

function config(message: string): CognitionError {
  return new CognitionError('ERR_CONFIG', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_VALUE ? value : undefined;
}

/** A user named in configuration (email or id). */
function configured(user: string): UserRef {
  return UUID.test(user) ? { id: user } : { email: user };
}

/**
 * Reads an AppSync identity (the shapes of ../shared/fixtures/appsync): who it claims to be
 * and how to look that user up. Throws `Unauthorized` for an identity this configuration does
 * not accept. AppSync builds the identity from a credential it verified, so it is trusted as
 * to who is calling; what that caller may do is the database's decision.
 */
export function readIdentity(identity: unknown, config: IdentityConfig): IdentityClaim {
  // API_KEY: AppSync fills no identity.
  if (
    identity === null ||
    identity === undefined ||
    (isRecord(identity) && Object.keys(identity).length === 0)
  ) {
    return { kind: 'api-key', cacheKey: 'api-key' };
  }
  if (!isRecord(identity)) throw unauthorized();

  // AWS_LAMBDA: { resolverContext } as returned by the authorizer.
  if (isRecord(identity['resolverContext'])) {
    const value = text(identity['resolverContext'][config.lambdaAuthorizerKey]);
    if (!value) throw unauthorized();
    const refs: UserRef[] = UUID.test(value) ? [{ id: value }, { subject: value }] : [{ subject: value }];
    return { kind: 'lambda', cacheKey: `lambda:${value}`, refs };
  }

  // AWS_IAM: { accountId, userArn, username, cognitoIdentity*... }.
  const userArn = identity['userArn'];
  if (userArn !== undefined) {
    const arn = text(userArn);
    if (!arn) throw unauthorized();
    let user = config.exactArns.get(arn);
    const assumed = parseAssumedRoleArn(arn);
    if (user === undefined && assumed) {
      user =
        config.roles.get(`${assumed.partition}:${assumed.account}:${assumed.roleName}`) ??
        config.roleNames.get(assumed.roleName);
    }
    if (user === undefined) throw unauthorized();
    return { kind: 'iam', cacheKey: `iam:${arn}`, refs: [configured(user)] };
  }

  const sub = text(identity['sub']);
  const issuer = text(identity['issuer']);
  if (!sub) throw unauthorized();
  // AMAZON_COGNITO_USER_POOLS: { sub, issuer, username, claims, sourceIp, defaultAuthStrategy, groups }.
  if ('username' in identity || 'defaultAuthStrategy' in identity || 'groups' in identity) {
    return { kind: 'cognito', cacheKey: `cognito:${sub}`, refs: [{ subject: sub }] };
  }
  // OPENID_CONNECT: { sub, issuer, claims }, bound as `<issuer>#<sub>`.
  if (!issuer || !config.oidcIssuers.has(issuer)) throw unauthorized();
  const subject = oidcSubject(issuer, sub);
  return { kind: 'oidc', cacheKey: `oidc:${subject}`, refs: [{ subject }] };
}

/** Claims for `request.jwt.claims`: what the identity carried (never what decides the tenant). */
export function claimsOf(identity: unknown, kind: IdentityKind): Record<string, unknown> | undefined {
  if (!isRecord(identity)) return undefined;
  switch (kind) {
    case 'cognito':
    case 'oidc':
      return isRecord(identity['claims']) ? identity['claims'] : { sub: identity['sub'] };
    case 'lambda':
      return isRecord(identity['resolverContext']) ? identity['resolverContext'] : undefined;
    case 'iam':
      return { userArn: identity['userArn'], accountId: identity['accountId'] ?? null };
    default:
      return undefined;
  }
}

export function callerOf(user: User): CallerUser {
  return {
    userId: user.id,
    dbUsername: user.dbUsername as string,
    schema: user.tenantSchema,
    tenantId: user.tenantId,
    role: user.role,
  };
}

/**
 * Resolved identities, kept for `ttlMs` and at most `max` of them (oldest first out). Caching
 * never widens access: the database checks the role itself on every query.
 */
export class IdentityCache {
  private readonly entries = new Map<string, { caller: CallerUser; expires: number }>();
  private readonly pending = new Map<string, Promise<CallerUser>>();

  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
  ) {}

  async get(key: string, load: () => Promise<CallerUser>): Promise<CallerUser> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > Date.now()) return hit.caller;
    if (hit) this.entries.delete(key);
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const loading = load().finally(() => this.pending.delete(key));
    this.pending.set(key, loading);
    const caller = await loading;
    if (this.ttlMs > 0 && this.max > 0) {
      while (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.delete(oldest);
      }
      this.entries.set(key, { caller, expires: Date.now() + this.ttlMs });
    }
    return caller;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
