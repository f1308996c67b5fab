import { invalidParameter } from './errors.js';
import type { StoredUser } from './store.js';

/** The OpenID Connect standard attributes Cognito pools have, besides `sub`. */
const STANDARD = new Set([
  'address',
  'birthdate',
  'email',
  'email_verified',
  'family_name',
  'gender',
  'given_name',
  'locale',
  'middle_name',
  'name',
  'nickname',
  'phone_number',
  'phone_number_verified',
  'picture',
  'preferred_username',
  'profile',
  'updated_at',
  'website',
  'zoneinfo',
]);
const VERIFIED = new Set(['email_verified', 'phone_number_verified']);
const CUSTOM = /^custom:[\w.-]{1,20}$/;
const USERNAME = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export function isEmail(value: string): boolean {
  return EMAIL.test(value) && value.length <= 2048;
}

export function checkUsername(username: string): string {
  if (!USERNAME.test(username)) {
    throw invalidParameter(
      "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
    );
  }
  return username;
}

/**
 * Checks attribute names and values against the pool's schema (the standard attributes and
 * `custom:*`). Users may not set the `*_verified` flags themselves; administrators may.
 */
export function checkAttributes(
  attributes: Record<string, string>,
  options: { allowVerified: boolean },
): Record<string, string> {
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (!STANDARD.has(name) && !CUSTOM.test(name)) {
      throw invalidParameter(
        `Attributes did not conform to the schema: Type for attribute {${name}} could not be determined`,
      );
    }
    if (VERIFIED.has(name)) {
      if (!options.allowVerified) {
        throw invalidParameter(`Cannot modify the non-mutable attribute ${name}`);
      }
      if (value !== 'true' && value !== 'false') {
        throw invalidParameter(`Attributes did not conform to the schema: ${name} must be true or false`);
      }
    }
    if (value.length > 2048) {
      throw invalidParameter(
        `Attributes did not conform to the schema: ${name}: String must be no longer than 2048 characters`,
      );
    }
    checked[name] = value;
  }
  if (checked['email'] !== undefined && !isEmail(checked['email'])) {
    throw invalidParameter('Invalid email address format.');
  }
  return checked;
}

/**
 * The pool uses the email as a username alias: a user signs up with their email as Username, or
 * with another username and an `email` attribute. Returns the user's email (also set in
 * `attributes`).
 */
export function resolveEmail(username: string, attributes: Record<string, string>): string {
  const given = attributes['email'];
  if (isEmail(username)) {
    if (given !== undefined && given.toLowerCase() !== username.toLowerCase()) {
      throw invalidParameter('The email attribute must match the username when the username is an email.');
    }
    attributes['email'] = given ?? username;
    return attributes['email'];
  }
  if (given === undefined || given === '') {
    throw invalidParameter('Attributes did not conform to the schema: email: The attribute is required');
  }
  return given;
}

/** The user's attributes as an AttributeType list, `sub` first (optionally only some names). */
export function attributeList(user: StoredUser, names?: string[]): { Name: string; Value: string }[] {
  const all: [string, string][] = [['sub', user.sub], ...Object.entries(user.attributes)];
  return all
    .filter(([name]) => names === undefined || names.includes(name))
    .map(([Name, Value]) => ({ Name, Value }));
}

/** What triggers receive as `request.userAttributes`: strings only, with `sub` and the status. */
export function eventAttributes(user: StoredUser): Record<string, string> {
  return {
    sub: user.sub,
    ...user.attributes,
    'cognito:user_status': user.status,
  };
}

/** `m***@e***`: the masked destination Cognito reports in CodeDeliveryDetails. */
export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.charAt(0)}***@${domain.charAt(0)}***`;
}

export function emailDelivery(email: string) {
  return { Destination: maskEmail(email), DeliveryMedium: 'EMAIL', AttributeName: 'email' };
}
