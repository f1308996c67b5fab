import { isCognitionError } from '../errors.js';
import { validateEmail } from '../users/validation.js';
import { reject } from './errors.js';

/**
 * Reading the untrusted parts of a trigger event. Cognito sends string attributes, but the
 * event is checked as if anything could be in it: a malformed event is rejected with a code,
 * never a crash, and unknown extra fields are ignored.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `event.request`, which every trigger event carries. */
export function requestOf(event: unknown): JsonObject {
  const request = isObject(event) ? event['request'] : undefined;
  if (!isObject(request)) throw reject('ERR_INVALID_EVENT');
  return request;
}

/** `event.request.userAttributes`. */
export function attributesOf(event: unknown): JsonObject {
  const attributes = requestOf(event)['userAttributes'];
  if (!isObject(attributes)) throw reject('ERR_INVALID_EVENT');
  return attributes;
}

/** The validated email attribute (trimmed, NFC); ERR_INVALID_EMAIL when missing or invalid. */
export function emailOf(attributes: JsonObject): string {
  const raw = attributes['email'];
  if (raw === undefined || raw === null || raw === '') {
    throw reject('ERR_INVALID_EMAIL', 'an email address is required');
  }
  try {
    return validateEmail(raw);
  } catch (error) {
    if (isCognitionError(error, 'ERR_INVALID_EMAIL')) throw reject('ERR_INVALID_EMAIL');
    throw error;
  }
}

// Cognito's `sub` is a UUID; other identity providers' subjects are opaque but short, and
// UserService binds at most 255 characters.
const SUBJECT = /^[\x21-\x7e]{1,255}$/;

/** The Cognito user's `sub` attribute; ERR_INVALID_EVENT when missing or not a plausible subject. */
export function subjectOf(attributes: JsonObject): string {
  const sub = attributes['sub'];
  if (typeof sub !== 'string' || !SUBJECT.test(sub)) throw reject('ERR_INVALID_EVENT');
  return sub;
}

/** Whether Cognito marks the email as verified (attributes are strings: "true" / "false"). */
export function isEmailVerified(attributes: JsonObject): boolean {
  const value = attributes['email_verified'];
  return value === 'true' || value === true;
}
