import { invalidParameter } from './errors.js';
import type { StoredUser } from './store.js';

export type UserFilter = (user: StoredUser) => boolean;

const SEARCHABLE = new Set([
  'username',
  'email',
  'phone_number',
  'name',
  'given_name',
  'family_name',
  'preferred_username',
  'cognito:user_status',
  'status',
  'sub',
]);
/** Compared without regard to case: the pool's usernames and emails are case-insensitive. */
const CASE_INSENSITIVE = new Set(['username', 'email', 'status']);
const FILTER = /^\s*([\w:]+)\s*(=|\^=)\s*"((?:[^"\\]|\\.)*)"\s*$/;

/**
 * ListUsers' `Filter`: `name = "value"` (exact) or `name ^= "value"` (prefix), one standard
 * attribute at a time; `\"` escapes a quote. An empty filter matches everyone.
 */
export function parseUserFilter(filter: string | undefined): UserFilter {
  if (filter === undefined || filter.trim() === '') return () => true;
  const match = FILTER.exec(filter);
  if (!match) throw invalidParameter('Error while parsing filter.');
  const [, name = '', operator, raw = ''] = match;
  if (!SEARCHABLE.has(name)) throw invalidParameter(`Invalid search attribute: ${name}`);
  const fold = (text: string) => (CASE_INSENSITIVE.has(name) ? text.toLowerCase() : text);
  const wanted = fold(raw.replace(/\\(.)/g, '$1'));
  return (user) => {
    const value = valueOf(user, name);
    if (value === undefined) return false;
    const actual = fold(value);
    return operator === '=' ? actual === wanted : actual.startsWith(wanted);
  };
}

function valueOf(user: StoredUser, name: string): string | undefined {
  switch (name) {
    case 'username':
      return user.username;
    case 'sub':
      return user.sub;
    case 'cognito:user_status':
      return user.status;
    case 'status':
      return user.enabled ? 'Enabled' : 'Disabled';
    default:
      return user.attributes[name];
  }
}
