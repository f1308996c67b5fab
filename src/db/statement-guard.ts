import { CognitionError } from '../errors.js';
import { tokenize } from './sql-tokens.js';

/**
 * In role-switch mode one login (the authenticator) may become any user, and Postgres lets
 * whatever runs in that session switch role again: `set_config('role', …)`, `SET ROLE`, a `DO`
 * block. A resolver's statement is server-side configuration, but one built by mistake from
 * client input (SQL injection) must still not become another user. So a statement that names a
 * way to change session settings or to run SQL text is refused before it is sent. Names are
 * found by a lexer, so `set_config` inside a string literal or a comment is not a match, while
 * quoted or schema-qualified spellings are. Credentials mode needs no such guard: its login
 * is the user, a member of no other user.
 *
 * This is a deny-list: it names every mechanism in core Postgres (and dblink) that changes the
 * session's role or runs SQL given as text. Extensions that add others must be kept away from
 * user roles by their grants.
 */
const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  // Changes settings, the role among them; pg_settings's update rule calls it.
  'set_config',
  'pg_settings',
  // Run the SQL text they are given.
  'query_to_xml',
  'query_to_xml_and_xmlschema',
  'query_to_xmlschema',
  'cursor_to_xml',
  'cursor_to_xmlschema',
  'ts_stat',
  'ts_rewrite',
  'dblink',
  'dblink_exec',
  'dblink_open',
  'dblink_send_query',
]);

// Statements that change the session or the transaction, or run procedural code.
const FORBIDDEN_FIRST: ReadonlySet<string> = new Set([
  'do',
  'set',
  'reset',
  'begin',
  'start',
  'commit',
  'end',
  'rollback',
  'abort',
  'savepoint',
  'release',
  'discard',
  'load',
  'prepare',
  'deallocate',
]);

const verdicts = new Map<string, string | null>();
const MAX_VERDICTS = 2000;

/** Why the statement may not run in a shared, role-switching session, or null. */
export function refusalReason(sql: string): string | null {
  const known = verdicts.get(sql);
  if (known !== undefined) return known;
  let reason: string | null = null;
  let first = true;
  for (const token of tokenize(sql)) {
    if (token.kind === 'space' || token.kind === 'comment') continue;
    const name =
      token.kind === 'identifier'
        ? token.text.toLowerCase()
        : token.kind === 'quoted-identifier'
          ? token.text.slice(1, -1).replace(/""/g, '"')
          : undefined;
    if (first && name !== undefined && FORBIDDEN_FIRST.has(name)) {
      reason = `${name.toUpperCase()} statements`;
      break;
    }
    first = false;
    if (name !== undefined && FORBIDDEN_NAMES.has(name)) {
      reason = name;
      break;
    }
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
  verdicts.set(sql, reason);
  return reason;
}

/** Throws ERR_STATEMENT_REFUSED for a statement that could leave the caller's role. */
export function guardStatement(sql: string): void {
  const reason = refusalReason(sql);
  if (reason !== null) {
    throw new CognitionError(
      'ERR_STATEMENT_REFUSED',
      `this statement may not run as a user in role-switch mode (it uses ${reason})`,
    );
  }
}
