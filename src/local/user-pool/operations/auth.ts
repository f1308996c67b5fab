import { checkAttributes, eventAttributes } from '../attributes.js';
import { issueTokens } from '../authentication.js';
import {
  CognitoError,
  INCORRECT_CREDENTIALS,
  invalidParameter,
  notAuthorized,
  USER_DISABLED,
} from '../errors.js';
import { optionalString, optionalStringMap, requiredString, type Input } from '../input.js';
import { checkPasswordPolicy, hashPassword, verifyNothing, verifyPassword } from '../passwords.js';
import { requireClient, type Call, type Operation, type Output, type Pool } from '../pool.js';
import type { StoredUser } from '../store.js';

export const initiateAuth: Operation = async (pool, input, call) => {
  const clientId = requireClient(pool, input);
  const flow = requiredString(input, 'AuthFlow');
  const parameters = optionalStringMap(input, 'AuthParameters') ?? {};
  switch (flow) {
    case 'USER_PASSWORD_AUTH':
      return passwordAuth(pool, clientId, parameters, input, call);
    case 'REFRESH_TOKEN_AUTH':
    case 'REFRESH_TOKEN':
      return refreshAuth(pool, clientId, parameters, call);
    case 'USER_SRP_AUTH':
    case 'CUSTOM_AUTH':
    case 'USER_AUTH':
    case 'ADMIN_NO_SRP_AUTH':
    case 'ADMIN_USER_PASSWORD_AUTH':
      throw invalidParameter(`${flow} flow not supported by the local user pool.`);
    default:
      throw invalidParameter(
        `1 validation error detected: Value '${flow}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set`,
      );
  }
};

function parameter(parameters: Record<string, string>, name: string): string {
  const value = parameters[name];
  if (value === undefined || value === '') throw invalidParameter(`Missing required parameter ${name}`);
  return value;
}

async function passwordAuth(
  pool: Pool,
  clientId: string,
  parameters: Record<string, string>,
  input: Input,
  call: Call,
): Promise<Output> {
  const username = parameter(parameters, 'USERNAME');
  const password = parameter(parameters, 'PASSWORD');
  const clientMetadata = optionalStringMap(input, 'ClientMetadata');
  const user = pool.store.findUser(username);
  if (!user) {
    // Unknown users get the answer of a wrong password (user existence errors prevented).
    await verifyNothing(password);
    throw notAuthorized(INCORRECT_CREDENTIALS);
  }
  if (!(await verifyPassword(password, user.passwordHash))) throw notAuthorized(INCORRECT_CREDENTIALS);
  if (!user.enabled) throw notAuthorized(USER_DISABLED);
  if (user.status === 'UNCONFIRMED')
    throw new CognitoError('UserNotConfirmedException', 'User is not confirmed.');
  if (user.status === 'RESET_REQUIRED') {
    throw new CognitoError('PasswordResetRequiredException', 'Password reset required for the user');
  }
  // Pre authentication gets InitiateAuth's ClientMetadata as validationData.
  await pool.triggers.run({
    trigger: 'PreAuthentication',
    source: 'PreAuthentication_Authentication',
    userName: user.username,
    clientId,
    sdkVersion: call.sdkVersion,
    request: {
      userAttributes: eventAttributes(user),
      ...(clientMetadata && { validationData: clientMetadata }),
      userNotFound: false,
    },
    response: {},
  });
  const current = pool.store.userBySub(user.sub);
  if (!current) throw notAuthorized(INCORRECT_CREDENTIALS);
  if (!current.enabled) throw notAuthorized(USER_DISABLED);
  if (current.status === 'FORCE_CHANGE_PASSWORD') {
    const session = pool.challenges.start({ name: 'NEW_PASSWORD_REQUIRED', sub: current.sub, clientId });
    return {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: session,
      ChallengeParameters: {
        USER_ID_FOR_SRP: current.username,
        requiredAttributes: '[]',
        userAttributes: JSON.stringify(current.attributes),
      },
    };
  }
  return issueTokens(pool, { user: current, source: 'TokenGeneration_Authentication', clientId, call });
}

async function refreshAuth(
  pool: Pool,
  clientId: string,
  parameters: Record<string, string>,
  call: Call,
): Promise<Output> {
  const token = parameter(parameters, 'REFRESH_TOKEN');
  const session = pool.store.sessionByToken(token);
  if (!session || session.clientId !== clientId) throw notAuthorized('Invalid Refresh Token');
  if (session.revoked) throw notAuthorized('Refresh Token has been revoked');
  if (session.expiresAt <= pool.now()) throw notAuthorized('Refresh Token has expired');
  const user = pool.store.userBySub(session.sub);
  if (!user) throw notAuthorized('User does not exist.');
  if (!user.enabled) throw notAuthorized(USER_DISABLED);
  return issueTokens(pool, { user, source: 'TokenGeneration_RefreshTokens', clientId, call, session });
}

export const respondToAuthChallenge: Operation = async (pool, input, call) => {
  const clientId = requireClient(pool, input);
  const name = requiredString(input, 'ChallengeName');
  if (name !== 'NEW_PASSWORD_REQUIRED') {
    throw invalidParameter(`${name} challenge not supported by the local user pool.`);
  }
  const sessionId = optionalString(input, 'Session');
  const responses = optionalStringMap(input, 'ChallengeResponses') ?? {};
  const clientMetadata = optionalStringMap(input, 'ClientMetadata');
  const username = parameter(responses, 'USERNAME');
  const password = parameter(responses, 'NEW_PASSWORD');
  const challenge = sessionId === undefined ? undefined : pool.challenges.get(sessionId);
  if (!challenge || challenge.clientId !== clientId) {
    throw notAuthorized('Invalid session for the user, session is expired.');
  }
  const user = pool.store.userBySub(challenge.sub);
  if (!user || pool.store.findUser(username) !== user) throw notAuthorized('Invalid session for the user.');
  if (!user.enabled) throw notAuthorized(USER_DISABLED);
  if (user.status !== 'FORCE_CHANGE_PASSWORD') throw notAuthorized('Invalid session for the user.');
  checkPasswordPolicy(password);
  const attributes = checkAttributes(requiredAttributes(responses), { allowVerified: false });
  // As Cognito: the challenge may fill in missing attributes, never change one that has a value
  // (the email an administrator created the account with, above all).
  for (const name of Object.keys(attributes)) {
    if (user.attributes[name] !== undefined && user.attributes[name] !== attributes[name]) {
      throw new CognitoError(
        'InvalidParameterException',
        `Cannot modify an already provided attribute: ${name}.`,
      );
    }
  }
  const passwordHash = await hashPassword(password);
  const after: StoredUser = {
    ...user,
    attributes: { ...user.attributes, ...attributes },
    status: 'CONFIRMED',
    passwordHash,
    modifiedAt: pool.now(),
  };
  return issueTokens(pool, {
    user: after,
    source: 'TokenGeneration_NewPasswordChallenge',
    clientId,
    call,
    clientMetadata,
    commit: () => {
      const current = pool.store.userBySub(user.sub);
      if (current?.status !== 'FORCE_CHANGE_PASSWORD') throw notAuthorized('Invalid session for the user.');
      Object.assign(current.attributes, attributes);
      current.status = 'CONFIRMED';
      current.passwordHash = passwordHash;
      current.modifiedAt = after.modifiedAt;
      pool.challenges.end(sessionId as string);
    },
  });
};

/** `userAttributes.<name>` entries of ChallengeResponses. */
function requiredAttributes(responses: Record<string, string>): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(responses)) {
    if (key.startsWith('userAttributes.')) attributes[key.slice('userAttributes.'.length)] = value;
  }
  return attributes;
}
