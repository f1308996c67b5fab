import type { Operation } from '../pool.js';
import {
  adminCreateUser,
  adminDeleteUser,
  adminDisableUser,
  adminEnableUser,
  adminGetUser,
} from './admin-users.js';
import { initiateAuth, respondToAuthChallenge } from './auth.js';
import { confirmForgotPassword, forgotPassword } from './forgot-password.js';
import {
  adminAddUserToGroup,
  adminListGroupsForUser,
  adminRemoveUserFromGroup,
  createGroup,
  deleteGroup,
  getGroup,
  listGroups,
} from './groups.js';
import { listUsers } from './list-users.js';
import { getUser, globalSignOut } from './session.js';
import { confirmSignUp, resendConfirmationCode, signUp } from './sign-up.js';

/**
 * The operations of the Cognito Identity Provider JSON API the local pool answers, by the name in
 * `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`. Admin operations (those that
 * need IAM credentials on AWS) are marked, so that the server can keep browsers from them.
 */
export const OPERATIONS: ReadonlyMap<string, { run: Operation; admin: boolean }> = new Map(
  Object.entries({
    SignUp: { run: signUp, admin: false },
    ConfirmSignUp: { run: confirmSignUp, admin: false },
    ResendConfirmationCode: { run: resendConfirmationCode, admin: false },
    InitiateAuth: { run: initiateAuth, admin: false },
    RespondToAuthChallenge: { run: respondToAuthChallenge, admin: false },
    GetUser: { run: getUser, admin: false },
    GlobalSignOut: { run: globalSignOut, admin: false },
    ForgotPassword: { run: forgotPassword, admin: false },
    ConfirmForgotPassword: { run: confirmForgotPassword, admin: false },
    AdminCreateUser: { run: adminCreateUser, admin: true },
    AdminGetUser: { run: adminGetUser, admin: true },
    AdminDisableUser: { run: adminDisableUser, admin: true },
    AdminEnableUser: { run: adminEnableUser, admin: true },
    AdminDeleteUser: { run: adminDeleteUser, admin: true },
    AdminAddUserToGroup: { run: adminAddUserToGroup, admin: true },
    AdminRemoveUserFromGroup: { run: adminRemoveUserFromGroup, admin: true },
    AdminListGroupsForUser: { run: adminListGroupsForUser, admin: true },
    ListUsers: { run: listUsers, admin: true },
    CreateGroup: { run: createGroup, admin: true },
    GetGroup: { run: getGroup, admin: true },
    DeleteGroup: { run: deleteGroup, admin: true },
    ListGroups: { run: listGroups, admin: true },
  }),
);
