import { attributeList } from '../attributes.js';
import { authenticate, type Operation } from '../pool.js';

export const getUser: Operation = async (pool, input) => {
  const user = await authenticate(pool, input);
  return { Username: user.username, UserAttributes: attributeList(user) };
};

/** Revokes every refresh token of the user, and with them every ID and access token. */
export const globalSignOut: Operation = async (pool, input) => {
  const user = await authenticate(pool, input);
  pool.store.revokeSessionsOf(user.sub);
  await pool.store.save();
  return {};
};
