import { tokenize } from '../db/sql-tokens.js';

// What in a template migration can act on privileges a tenant already holds (or read them):
// revokes, DROP/REASSIGN OWNED, privilege functions and default privileges, and code that can
// run SQL the text does not show (DO blocks, EXECUTE of a string, procedures). Matched in the
// text outside comments, string contents included, so that it errs towards the round trip.
const ACTS_ON_EXISTING_PRIVILEGES = [
  /\brevoke\b/,
  /\bowned\b/,
  /privilege/,
  /\bacl/,
  /\bdo\s+(\$|'|e'|language\b)/,
  /\bexecute\b(?!\s+(on|function|procedure)\b)/,
  /\bcall\b/,
];

/**
 * Whether a template migration must run on a tenant with the tenant roles' privileges moved onto
 * the global roles (as they are in tenant_template), and back after. A file that only creates,
 * alters and drops objects and grants to the global roles gives the same result without the
 * move: its grants land on the global roles and are moved to the tenant's own afterwards, where
 * they join what the tenant held already. The move costs two statements per object and role,
 * and a GRANT on a routine costs O(tenants) in Postgres's name lookup, which made rollouts at
 * 10,000 tenants take hours. Functions the file calls are not looked into: a privilege change
 * made inside one must be written in the file's text.
 */
export function needsPrivilegeRoundTrip(sql: string): boolean {
  const text = tokenize(sql)
    .filter((token) => token.kind !== 'comment')
    .map((token) => token.text)
    // Spaced, so that a comment between two words does not make them one.
    .join(' ')
    .toLowerCase();
  return ACTS_ON_EXISTING_PRIVILEGES.some((pattern) => pattern.test(text));
}
