import { randomUUID } from 'node:crypto';
import {
  checkAttributes,
  checkUsername,
  emailDelivery,
  eventAttributes,
  resolveEmail,
} from '../attributes.js';
import { checkCode, newCode } from '../codes.js';
import { CognitoError, invalidParameter, notAuthorized } from '../errors.js';
import { optionalAttributeList, optionalStringMap, requiredString } from '../input.js';
import { checkPasswordPolicy, hashPassword } from '../passwords.js';
import { assertAvailable, requireClient, requireUser, type Operation, type Pool } from '../pool.js';
import type { StoredUser } from '../store.js';

const NOT_FOUND = 'Username/client id combination not found.';

export const signUp: Operation = async (pool, input, call) => {
  const clientId = requireClient(pool, input);
  const username = checkUsername(requiredString(input, 'Username'));
  const password = requiredString(input, 'Password');
  const attributes = checkAttributes(optionalAttributeList(input, 'UserAttributes') ?? {}, {
    allowVerified: false,
  });
  const email = resolveEmail(username, attributes);
  checkPasswordPolicy(password);
  assertAvailable(pool, username, email);
  const clientMetadata = optionalStringMap(input, 'ClientMetadata');

  const response = await pool.triggers.run({
    trigger: 'PreSignUp',
    source: 'PreSignUp_SignUp',
    userName: username,
    clientId,
    sdkVersion: call.sdkVersion,
    request: {
      userAttributes: { ...attributes },
      validationData: optionalAttributeList(input, 'ValidationData') ?? null,
      ...(clientMetadata && { clientMetadata }),
    },
    response: { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false },
  });
  const autoConfirm = response['autoConfirmUser'] === true;
  const autoVerifyEmail = response['autoVerifyEmail'] === true;
  const autoVerifyPhone = response['autoVerifyPhone'] === true;
  if (autoVerifyPhone && !attributes['phone_number']) {
    throw invalidParameter('autoVerifyPhone needs a phone_number attribute.');
  }

  const now = pool.now();
  const user: StoredUser = {
    sub: randomUUID(),
    username,
    attributes: {
      ...attributes,
      email_verified: String(autoVerifyEmail),
      ...(attributes['phone_number'] !== undefined && { phone_number_verified: String(autoVerifyPhone) }),
    },
    status: autoConfirm ? 'CONFIRMED' : 'UNCONFIRMED',
    enabled: true,
    passwordHash: await hashPassword(password),
    createdAt: now,
    modifiedAt: now,
    groups: [],
    codes: {},
  };
  if (autoConfirm) {
    // An auto-confirmed user is confirmed at sign-up: post confirmation runs now.
    await postConfirmation(
      pool,
      user,
      'PostConfirmation_ConfirmSignUp',
      clientId,
      call.sdkVersion,
      clientMetadata,
    );
  } else {
    user.codes.confirmSignUp = newCode('confirmSignUp', now);
  }
  // The triggers ran asynchronously; someone may have taken the name meanwhile.
  assertAvailable(pool, username, email);
  pool.store.addUser(user);
  await pool.store.save();
  if (user.codes.confirmSignUp) logCode(pool, user, 'confirmation', user.codes.confirmSignUp.code);
  return {
    UserConfirmed: autoConfirm,
    UserSub: user.sub,
    ...(!autoConfirm && { CodeDeliveryDetails: emailDelivery(email) }),
  };
};

export const confirmSignUp: Operation = async (pool, input, call) => {
  const clientId = requireClient(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'), NOT_FOUND);
  const code = requiredString(input, 'ConfirmationCode');
  const clientMetadata = optionalStringMap(input, 'ClientMetadata');
  if (user.status !== 'UNCONFIRMED') {
    throw notAuthorized(`User cannot be confirmed. Current status is ${user.status}`);
  }
  checkCode(user.codes.confirmSignUp, code, pool.now());
  const confirmed: StoredUser = {
    ...user,
    attributes: { ...user.attributes, email_verified: 'true' },
    status: 'CONFIRMED',
  };
  // A failing post confirmation fails the call and leaves the user unconfirmed, code still valid.
  await postConfirmation(
    pool,
    confirmed,
    'PostConfirmation_ConfirmSignUp',
    clientId,
    call.sdkVersion,
    clientMetadata,
  );
  const current = pool.store.userBySub(user.sub);
  if (!current) throw new CognitoError('UserNotFoundException', NOT_FOUND);
  if (current.status === 'UNCONFIRMED') {
    current.status = 'CONFIRMED';
    current.attributes['email_verified'] = 'true';
    delete current.codes.confirmSignUp;
    current.modifiedAt = pool.now();
    await pool.store.save();
  }
  return {};
};

export const resendConfirmationCode: Operation = async (pool, input) => {
  requireClient(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'), NOT_FOUND);
  if (user.status !== 'UNCONFIRMED') throw invalidParameter('User is already confirmed.');
  const code = newCode('confirmSignUp', pool.now());
  user.codes.confirmSignUp = code;
  await pool.store.save();
  logCode(pool, user, 'confirmation', code.code);
  return { CodeDeliveryDetails: emailDelivery(user.attributes['email'] ?? '') };
};

export async function postConfirmation(
  pool: Pool,
  user: StoredUser,
  source: 'PostConfirmation_ConfirmSignUp' | 'PostConfirmation_ConfirmForgotPassword',
  clientId: string,
  sdkVersion: string,
  clientMetadata: Record<string, string> | undefined,
): Promise<void> {
  await pool.triggers.run({
    trigger: 'PostConfirmation',
    source,
    userName: user.username,
    clientId,
    sdkVersion,
    request: { userAttributes: eventAttributes(user), ...(clientMetadata && { clientMetadata }) },
    response: {},
  });
}

export function logCode(pool: Pool, user: StoredUser, what: string, code: string): void {
  pool.log(`[user-pool] ${what} code for ${user.username}: ${code}`);
}
