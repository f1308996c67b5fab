import { CognitionError } from '../errors.js';

/**
 * A tenant role as the application declares it (`cognition.tenant_roles`; by default `admin`
 * and `user`). The database checks that it is declared; here only its shape is checked.
 */
export type TenantRole = string;
export type UserRole = TenantRole | 'application_admin';
export type UserStatus = 'invited' | 'active' | 'suspended' | 'removed';

const ROLE_NAME = /^[A-Za-z][A-Za-z0-9]{0,14}$/;

// Local part: RFC 5322 atext and dots (apostrophes are common in real addresses), or any
// non-ASCII letter (internationalised addresses). Domain: labels of letters, digits, hyphens.
const LOCAL_PART =
  /^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|\P{ASCII})+(?:\.(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]|\P{ASCII})+)*$/u;
const DOMAIN_LABEL = /^(?:[A-Za-z0-9]|\P{ASCII})(?:[A-Za-z0-9-]|\P{ASCII}){0,62}$/u;

export function validateEmail(email: unknown): string {
  const fail = (why: string): never => {
    throw new CognitionError('ERR_INVALID_EMAIL', `invalid email address: ${why}`);
  };
  if (typeof email !== 'string') return fail('not text');
  const value = email.trim().normalize('NFC');
  if (value.length > 254) return fail('longer than 254 characters');
  // Control, format (zero-width, bidi overrides), private and unassigned code points have no
  // place in an address and are how look-alike addresses are made.
  if (/[\s\p{C}]/u.test(value)) return fail('contains white space, control or invisible characters');
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1) return fail('expected local@domain');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL_PART.test(local)) return fail('unsupported characters before the @');
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => DOMAIN_LABEL.test(l) && !l.endsWith('-'))) {
    return fail('invalid domain');
  }
  return value;
}

export function validateRole(role: unknown): UserRole {
  if (typeof role !== 'string' || (role !== 'application_admin' && !ROLE_NAME.test(role))) {
    throw new CognitionError(
      'ERR_INVALID_ROLE',
      'role must be application_admin or a declared tenant role (a letter, then up to 14 letters or digits)',
    );
  }
  return role;
}

export function validatePersonName(name: unknown, what: string): string | null {
  if (name === undefined || name === null) return null;
  if (typeof name !== 'string') throw new CognitionError('ERR_INVALID_NAME', `${what} must be text`);
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex
  if ([...trimmed].length > 200 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new CognitionError(
      'ERR_INVALID_NAME',
      `${what} must be at most 200 characters without control characters`,
    );
  }
  return trimmed === '' ? null : trimmed;
}
