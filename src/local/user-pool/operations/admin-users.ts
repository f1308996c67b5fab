import { randomUUID } from 'node:crypto';
import { attributeList, checkAttributes, checkUsername, resolveEmail } from '../attributes.js';
import { CognitoError, invalidParameter } from '../errors.js';
import { ADMIN_CLIENT_ID } from '../events.js';
import { optionalAttributeList, optionalString, optionalStringMap, requiredString } from '../input.js';
import { checkPasswordPolicy, generateTemporaryPassword, hashPassword } from '../passwords.js';
import {
  assertAvailable,
  epochSeconds,
  requirePool,
  requireUser,
  type Operation,
  type Pool,
} from '../pool.js';
import type { StoredUser } from '../store.js';

/** The UserType shape of AdminCreateUser and ListUsers. */
export function userType(user: StoredUser, names?: string[]) {
  return {
    Username: user.username,
    Attributes: attributeList(user, names),
    UserCreateDate: epochSeconds(user.createdAt),
    UserLastModifiedDate: epochSeconds(user.modifiedAt),
    Enabled: user.enabled,
    UserStatus: user.status,
  };
}

/**
 * Creates a FORCE_CHANGE_PASSWORD user with a temporary password (given or generated); the
 * invitation is printed through the log, unless MessageAction is SUPPRESS (a generated password
 * is printed regardless, or nobody could ever know it). RESEND issues a new temporary password.
 */
export const adminCreateUser: Operation = async (pool, input, call) => {
  requirePool(pool, input);
  const username = checkUsername(requiredString(input, 'Username'));
  const action = optionalString(input, 'MessageAction');
  if (action !== undefined && action !== 'SUPPRESS' && action !== 'RESEND') {
    throw invalidParameter(
      `1 validation error detected: Value '${action}' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]`,
    );
  }
  const given = optionalString(input, 'TemporaryPassword');
  if (given !== undefined) checkPasswordPolicy(given);
  const temporaryPassword = given ?? generateTemporaryPassword();
  if (action === 'RESEND') return resend(pool, username, temporaryPassword);

  const attributes = checkAttributes(optionalAttributeList(input, 'UserAttributes') ?? {}, {
    allowVerified: true,
  });
  const email = resolveEmail(username, attributes);
  assertAvailable(pool, username, email);
  const clientMetadata = optionalStringMap(input, 'ClientMetadata');
  // Cognito ignores the response flags for this trigger source.
  await pool.triggers.run({
    trigger: 'PreSignUp',
    source: 'PreSignUp_AdminCreateUser',
    userName: username,
    clientId: ADMIN_CLIENT_ID,
    sdkVersion: call.sdkVersion,
    request: {
      userAttributes: { ...attributes },
      validationData: optionalAttributeList(input, 'ValidationData') ?? null,
      ...(clientMetadata && { clientMetadata }),
    },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  });
  const now = pool.now();
  const user: StoredUser = {
    sub: randomUUID(),
    username,
    attributes: { ...attributes, email_verified: attributes['email_verified'] ?? 'false' },
    status: 'FORCE_CHANGE_PASSWORD',
    enabled: true,
    passwordHash: await hashPassword(temporaryPassword),
    createdAt: now,
    modifiedAt: now,
    groups: [],
    codes: {},
  };
  assertAvailable(pool, username, email);
  pool.store.addUser(user);
  await pool.store.save();
  if (action !== 'SUPPRESS' || given === undefined) {
    pool.log(`[user-pool] invitation for ${username}: temporary password ${temporaryPassword}`);
  }
  return { User: userType(user) };
};

async function resend(pool: Pool, username: string, temporaryPassword: string) {
  const user = requireUser(pool, username);
  if (user.status !== 'FORCE_CHANGE_PASSWORD') {
    throw new CognitoError(
      'UnsupportedUserStateException',
      `User ${user.username} is not in FORCE_CHANGE_PASSWORD state.`,
    );
  }
  user.passwordHash = await hashPassword(temporaryPassword);
  user.modifiedAt = pool.now();
  await pool.store.save();
  pool.log(`[user-pool] invitation for ${user.username}: temporary password ${temporaryPassword}`);
  return { User: userType(user) };
}

export const adminGetUser: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  const { Attributes, ...rest } = userType(user);
  return { ...rest, UserAttributes: Attributes };
};

/** A disabled user cannot sign in, and every token issued to them stops working. */
export const adminDisableUser: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  user.enabled = false;
  user.modifiedAt = pool.now();
  pool.store.revokeSessionsOf(user.sub);
  await pool.store.save();
  return {};
};

export const adminEnableUser: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  user.enabled = true;
  user.modifiedAt = pool.now();
  await pool.store.save();
  return {};
};

export const adminDeleteUser: Operation = async (pool, input) => {
  requirePool(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'));
  pool.store.deleteUser(user.sub);
  await pool.store.save();
  return {};
};
