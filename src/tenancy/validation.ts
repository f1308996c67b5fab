import { CognitionError } from '../errors.js';

/**
 * Slugs become parts of identifiers (`tenant_<slug>`, `tenant_<slug>_admins`), so they are
 * restricted to lower-case ASCII letters, digits and underscores, and kept short enough that
 * the longest derived name stays under Postgres's 63-byte limit instead of being truncated
 * into a collision.
 */
export const SLUG_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;

export function validateSlug(slug: unknown): string {
  if (typeof slug !== 'string' || !SLUG_PATTERN.test(slug) || slug === 'template') {
    throw new CognitionError(
      'ERR_INVALID_SLUG',
      'a tenant slug is 1-40 characters of a-z, 0-9 and _, starting with a letter (and not "template")',
      { details: { slug: typeof slug === 'string' ? slug.slice(0, 100) : typeof slug } },
    );
  }
  return slug;
}

export function validateDisplayName(name: unknown, what = 'display name'): string {
  if (typeof name !== 'string') {
    throw new CognitionError('ERR_INVALID_NAME', `the ${what} must be text`);
  }
  const trimmed = name.trim();
  // eslint-disable-next-line no-control-regex
  if (trimmed.length < 1 || [...trimmed].length > 200 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new CognitionError(
      'ERR_INVALID_NAME',
      `the ${what} must be 1-200 characters without control characters`,
    );
  }
  return trimmed;
}
