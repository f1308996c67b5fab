import { emailDelivery } from '../attributes.js';
import { checkCode, newCode } from '../codes.js';
import { CognitoError, invalidParameter, notAuthorized, USER_DISABLED } from '../errors.js';
import { optionalStringMap, requiredString } from '../input.js';
import { checkPasswordPolicy, hashPassword } from '../passwords.js';
import { requireClient, requireUser, type Operation } from '../pool.js';
import type { StoredUser } from '../store.js';
import { logCode, postConfirmation } from './sign-up.js';

const NOT_FOUND = 'Username/client id combination not found.';

export const forgotPassword: Operation = async (pool, input) => {
  requireClient(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'), NOT_FOUND);
  if (!user.enabled) throw notAuthorized(USER_DISABLED);
  if (user.status === 'FORCE_CHANGE_PASSWORD') {
    throw notAuthorized('User password cannot be reset in the current state.');
  }
  if (user.attributes['email_verified'] !== 'true') {
    throw invalidParameter(
      'Cannot reset password for the user as there is no registered/verified email or phone_number',
    );
  }
  const code = newCode('forgotPassword', pool.now());
  user.codes.forgotPassword = code;
  await pool.store.save();
  logCode(pool, user, 'password reset', code.code);
  return { CodeDeliveryDetails: emailDelivery(user.attributes['email'] ?? '') };
};

export const confirmForgotPassword: Operation = async (pool, input, call) => {
  const clientId = requireClient(pool, input);
  const user = requireUser(pool, requiredString(input, 'Username'), NOT_FOUND);
  const code = requiredString(input, 'ConfirmationCode');
  const password = requiredString(input, 'Password');
  const clientMetadata = optionalStringMap(input, 'ClientMetadata');
  checkPasswordPolicy(password);
  checkCode(user.codes.forgotPassword, code, pool.now());
  const passwordHash = await hashPassword(password);
  const after: StoredUser = { ...user, status: user.status === 'RESET_REQUIRED' ? 'CONFIRMED' : user.status };
  // A failing post confirmation fails the call: the password stays as it was, the code valid.
  await postConfirmation(
    pool,
    after,
    'PostConfirmation_ConfirmForgotPassword',
    clientId,
    call.sdkVersion,
    clientMetadata,
  );
  const current = pool.store.userBySub(user.sub);
  if (!current) throw new CognitoError('UserNotFoundException', NOT_FOUND);
  if (current.codes.forgotPassword?.code !== code) {
    // Used or replaced meanwhile.
    throw new CognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
  }
  current.passwordHash = passwordHash;
  if (current.status === 'RESET_REQUIRED') current.status = 'CONFIRMED';
  delete current.codes.forgotPassword;
  current.modifiedAt = pool.now();
  await pool.store.save();
  return {};
};
