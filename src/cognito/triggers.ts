import type {
  PostConfirmationTriggerEvent,
  PreAuthenticationTriggerEvent,
  PreSignUpTriggerEvent,
  PreTokenGenerationTriggerEvent,
  PreTokenGenerationV2TriggerEvent,
} from 'aws-lambda';
import { cognitionFrom, type Cognition } from '../cognition.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { User } from '../users/users.js';
import { v1Response, v2Response } from './claims.js';
import {
  consoleLogger,
  reject,
  toTriggerError,
  triggerNameOf,
  type TriggerErrorCode,
  type TriggerLogger,
  type TriggerName,
} from './errors.js';
import {
  attributesOf,
  emailOf,
  isEmailVerified,
  isObject,
  requestOf,
  subjectOf,
  type JsonObject,
} from './event.js';

export type PreTokenGenerationEvent = PreTokenGenerationTriggerEvent | PreTokenGenerationV2TriggerEvent;

/** Every event the dispatching handler accepts. */
export type CognitoTriggerEvent =
  | PreSignUpTriggerEvent
  | PostConfirmationTriggerEvent
  | PreAuthenticationTriggerEvent
  | PreTokenGenerationEvent;

interface CommonOptions {
  /**
   * Bind a Cognito identity to an invited user found by email only when Cognito marks the email
   * as verified (default true), or when an administrator created the account with that email
   * (the NEW_PASSWORD_REQUIRED answer of an AdminCreateUser user). Without this, anyone who can
   * get an unverified email attribute into the pool (a sign-up confirmed by phone, an attribute
   * update) could take over another person's invitation. Turn it off only for identity
   * providers that never send email_verified and whose emails you trust.
   */
  requireVerifiedEmail?: boolean;
  /**
   * Each trigger gives up with ERR_INTERNAL after this many milliseconds (default 4500; 0 turns
   * the deadline off), so that the client sees a clean rejection rather than Cognito's 5-second
   * timeout. The work itself is idempotent, so a retry picks up where a slow attempt stopped.
   */
  timeoutMs?: number;
  /** Where the real cause of an ERR_INTERNAL goes (default console.error). */
  log?: TriggerLogger;
}

export type CognitoTriggersOptions = CommonOptions &
  (
    | {
        /** An existing Cognition (its pools are reused); the triggers never close it. */
        cognition: Cognition;
      }
    | {
        databaseUrl: string;
        secrets: SecretStore;
        secretPrefix?: string;
        /** Admin pool size (default 2: a Lambda container serves one event at a time). */
        adminPoolSize?: number;
      }
  );

export interface CognitoTriggers {
  /** PreSignUp_SignUp / _AdminCreateUser / _ExternalProvider: only invited emails of active tenants. */
  preSignUp<E extends PreSignUpTriggerEvent>(event: E): Promise<E>;
  /** PostConfirmation_ConfirmSignUp provisions the user (idempotent); _ConfirmForgotPassword is a no-op. */
  postConfirmation<E extends PostConfirmationTriggerEvent>(event: E): Promise<E>;
  /** Only users who exist in the application and are not suspended (or removed) may sign in. */
  preAuthentication<E extends PreAuthenticationTriggerEvent>(event: E): Promise<E>;
  /** Tenant and role claims and groups from the database; refuses inactive users (also on refresh). */
  preTokenGeneration<E extends PreTokenGenerationEvent>(event: E): Promise<E>;
  /** Dispatches on `triggerSource`; any other source is rejected with ERR_UNSUPPORTED_TRIGGER. */
  handler<E extends CognitoTriggerEvent>(event: E): Promise<E>;
  readonly cognition: Cognition;
  /** Closes the Cognition if the factory created it (a Cognition passed in is left open). */
  close(): Promise<void>;
}

const PRE_SIGN_UP = ['PreSignUp_SignUp', 'PreSignUp_AdminCreateUser', 'PreSignUp_ExternalProvider'];
const TOKEN_GENERATION = [
  'TokenGeneration_HostedAuth',
  'TokenGeneration_Authentication',
  'TokenGeneration_NewPasswordChallenge',
  'TokenGeneration_AuthenticateDevice',
  'TokenGeneration_RefreshTokens',
  'TokenGeneration_ClientCredentials',
];

/**
 * The four Cognito user pool triggers over one Cognition. Each does one or two indexed lookups
 * (user by `sub`, falling back to the email the first time; the user's tenant), plus the
 * provisioning transaction when a user is first confirmed. Every rejection is a
 * `CognitoTriggerError` whose message is `ERR_CODE: user-safe text`; anything unexpected is
 * logged and becomes `ERR_INTERNAL: internal error (ref …)`.
 */
export function createCognitoTriggers(options: CognitoTriggersOptions): CognitoTriggers {
  const { cognition, owned } = cognitionFrom(options, { adminPoolSize: 2 });
  const requireVerifiedEmail = options.requireVerifiedEmail ?? true;
  const timeoutMs = options.timeoutMs ?? 4500;
  const log = options.log ?? consoleLogger;

  function run<E>(trigger: TriggerName, body: () => Promise<E>): Promise<E> {
    return withDeadline(body, timeoutMs).catch((error: unknown) => {
      throw toTriggerError(error, trigger, log);
    });
  }

  function expectSource(event: unknown, sources: readonly string[]): string {
    const source = isObject(event) ? event['triggerSource'] : undefined;
    if (typeof source !== 'string' || !sources.includes(source)) throw reject('ERR_UNSUPPORTED_TRIGGER');
    return source;
  }

  /** Invited or active, in an active tenant (a suspended tenant keeps its users' status). */
  async function requireUsable(user: User): Promise<void> {
    if (user.status === 'suspended') throw reject('ERR_USER_INACTIVE');
    if (user.status === 'removed') throw reject('ERR_USER_REMOVED');
    if (user.tenantSlug !== null) {
      const tenant = await cognition.tenants.get(user.tenantSlug);
      if (tenant?.status !== 'active') throw reject('ERR_TENANT_INACTIVE');
    }
  }

  /**
   * The application user behind a Cognito identity: by `sub` once bound; before that by email,
   * and then only if no other identity is bound to that user and, where the caller is about to
   * bind this identity to the user, Cognito has verified the email (`emailProven` names the
   * other proofs: an account an administrator created with that email).
   */
  async function resolveUser(
    attributes: JsonObject,
    notFound: TriggerErrorCode,
    emailProven: boolean,
  ): Promise<User> {
    const subject = subjectOf(attributes);
    const bound = await cognition.users.find({ subject });
    if (bound) return bound;
    const user = await cognition.users.find({ email: emailOf(attributes) });
    if (!user) throw reject(notFound);
    // (Bound to this very subject only when a concurrent retry bound it between the lookups.)
    if (user.idpSubject === subject) return user;
    if (user.idpSubject !== null) throw reject('ERR_IDENTITY_MISMATCH');
    if (requireVerifiedEmail && !emailProven && !isEmailVerified(attributes)) {
      throw reject('ERR_EMAIL_NOT_VERIFIED');
    }
    return user;
  }

  /** Provisions (or finishes binding) a user; idempotent, so retries and races are harmless. */
  async function provision(user: User, subject: string): Promise<User> {
    const { user: provisioned } = await cognition.users.provision(user.id, { subject });
    if (provisioned.idpSubject !== subject) throw reject('ERR_IDENTITY_MISMATCH');
    return provisioned;
  }

  const triggers: CognitoTriggers = {
    cognition,

    preSignUp(event) {
      return run('PreSignUp', async () => {
        expectSource(event, PRE_SIGN_UP);
        const email = emailOf(attributesOf(event));
        const user = await cognition.users.find({ email });
        if (!user) throw reject('ERR_NOT_INVITED');
        // An active user with no identity yet was provisioned before signing up (e.g. by the
        // CLI); one with an identity already has an account, and a second would be a dead end.
        if (user.status === 'active' && user.idpSubject !== null) throw reject('ERR_USER_EXISTS');
        await requireUsable(user);
        return event;
      });
    },

    postConfirmation(event) {
      return run('PostConfirmation', async () => {
        const source = expectSource(event, [
          'PostConfirmation_ConfirmSignUp',
          'PostConfirmation_ConfirmForgotPassword',
        ]);
        if (source === 'PostConfirmation_ConfirmForgotPassword') return event;
        const attributes = attributesOf(event);
        const user = await resolveUser(attributes, 'ERR_NOT_INVITED', false);
        await requireUsable(user);
        await provision(user, subjectOf(attributes));
        return event;
      });
    },

    preAuthentication(event) {
      return run('PreAuthentication', async () => {
        expectSource(event, ['PreAuthentication_Authentication']);
        // With PreventUserExistenceErrors, Cognito calls this trigger for unknown usernames too:
        // let Cognito fail those its own generic way, so that no message tells them apart.
        if (requestOf(event)['userNotFound'] === true) return event;
        // Nothing is bound here, so an unverified email may name the user: an AdminCreateUser
        // user signs in (invited, email often unverified) before ever being confirmed, and
        // PreTokenGeneration decides about provisioning and binding before any token is issued.
        const user = await resolveUser(attributesOf(event), 'ERR_USER_NOT_FOUND', true);
        await requireUsable(user);
        return event;
      });
    },

    preTokenGeneration<E extends PreTokenGenerationEvent>(event: E) {
      return run('PreTokenGeneration', async () => {
        const source = expectSource(event, TOKEN_GENERATION);
        // Machine-to-machine tokens (V3 only) have no user; they map to no database role.
        if (source === 'TokenGeneration_ClientCredentials') return event;
        const version = versionOf(event);
        const attributes = attributesOf(event);
        const subject = subjectOf(attributes);
        // Binding by email needs a verified email, also after NEW_PASSWORD_REQUIRED: the person
        // answering that challenge may change attributes, the email included, so an account an
        // administrator created is no proof (AdminCreateUser should set email_verified=true).
        let user = await resolveUser(attributes, 'ERR_USER_NOT_FOUND', false);
        await requireUsable(user);
        // AdminCreateUser (NEW_PASSWORD_REQUIRED) and federated flows never fire
        // PostConfirmation: provision here, once, before the first token.
        if (user.status !== 'active' || user.idpSubject !== subject) user = await provision(user, subject);
        const response = version === 1 ? v1Response(event.response, user) : v2Response(event.response, user);
        return { ...event, response } as E;
      });
    },

    handler<E extends CognitoTriggerEvent>(event: E): Promise<E> {
      const source: unknown = isObject(event) ? event['triggerSource'] : undefined;
      switch (triggerNameOf(source)) {
        case 'PreSignUp':
          return triggers.preSignUp(event as PreSignUpTriggerEvent) as Promise<E>;
        case 'PostConfirmation':
          return triggers.postConfirmation(event as PostConfirmationTriggerEvent) as Promise<E>;
        case 'PreAuthentication':
          return triggers.preAuthentication(event as PreAuthenticationTriggerEvent) as Promise<E>;
        case 'PreTokenGeneration':
          return triggers.preTokenGeneration(event as PreTokenGenerationEvent) as Promise<E>;
        default:
          return Promise.reject(reject('ERR_UNSUPPORTED_TRIGGER'));
      }
    },

    async close() {
      if (owned) await cognition.close();
    },
  };
  return triggers;
}

/** 1 for the V1 event; 2 for V2 and V3, which share the V2 response. */
function versionOf(event: unknown): 1 | 2 {
  const version = isObject(event) ? event['version'] : undefined;
  if (version === undefined || version === '1' || version === 1) return 1;
  if (version === '2' || version === '3' || version === 2 || version === 3) return 2;
  throw reject('ERR_UNSUPPORTED_TRIGGER', 'this event version is not supported');
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`the trigger did not finish within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

function withDeadline<T>(body: () => Promise<T>, ms: number): Promise<T> {
  const work = Promise.resolve().then(body);
  if (!(ms > 0)) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new DeadlineError(ms)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
