/**
 * A lexer for Postgres SQL, just deep enough to find placeholders safely: `$1` in a string
 * literal, a quoted identifier, a dollar-quoted body or a comment is text, not a parameter, and
 * `::` is a cast, not a named parameter. It follows Postgres's lexical rules
 * (standard_conforming_strings on, as it is by default since 9.1); it does not parse.
 */

export type TokenKind =
  | 'space'
  | 'comment'
  | 'string'
  | 'identifier'
  | 'quoted-identifier'
  | 'dollar-string'
  | 'number'
  /** `$1`: a positional parameter (node-postgres, the extended protocol). */
  | 'positional'
  /** `:name`: a named parameter (the RDS Data API). */
  | 'named'
  | 'operator';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
}

// Postgres lets identifiers hold letters, digits, `_`, `$` (not first) and any non-ASCII character.
const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;
const NAMED_START = /[A-Za-z_]/;
const NAMED_PART = /[A-Za-z0-9_]/;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let end = i + 1;
      while (end < sql.length && /\s/.test(sql[end] as string)) end++;
      push('space', end);
    } else if (c === '-' && next === '-') {
      const newline = sql.indexOf('\n', i);
      push('comment', newline === -1 ? sql.length : newline + 1);
    } else if (c === '/' && next === '*') {
      push('comment', blockCommentEnd(sql, i));
    } else if (c === "'") {
      push('string', quotedEnd(sql, i, "'", false));
    } else if (c === '"') {
      push('quoted-identifier', quotedEnd(sql, i, '"', false));
    } else if (c === '$' && next !== undefined && DIGIT.test(next)) {
      let end = i + 1;
      while (end < sql.length && DIGIT.test(sql[end] as string)) end++;
      push('positional', end);
    } else if (c === '$') {
      const tag = dollarTag(sql, i);
      if (tag === undefined) {
        push('operator', i + 1);
      } else {
        const close = sql.indexOf(tag, i + tag.length);
        push('dollar-string', close === -1 ? sql.length : close + tag.length);
      }
    } else if (c === ':' && next === ':') {
      push('operator', i + 2);
    } else if (c === ':' && next !== undefined && NAMED_START.test(next)) {
      let end = i + 2;
      while (end < sql.length && NAMED_PART.test(sql[end] as string)) end++;
      push('named', end);
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      push('number', numberEnd(sql, i));
    } else if (IDENT_START.test(c)) {
      let end = i + 1;
      while (end < sql.length && IDENT_PART.test(sql[end] as string)) end++;
      const word = sql.slice(i, end);
      const quote = sql[end];
      // Prefixed literals: E'..' (backslash escapes), U&'..' / U&"..", B'..', X'..', N'..'.
      if (quote === "'" && /^[EeBbXxNn]$/.test(word)) {
        push('string', quotedEnd(sql, end, "'", word === 'E' || word === 'e'));
      } else if (/^[Uu]$/.test(word) && quote === '&' && (sql[end + 1] === "'" || sql[end + 1] === '"')) {
        const q = sql[end + 1] as "'" | '"';
        push(q === "'" ? 'string' : 'quoted-identifier', quotedEnd(sql, end + 1, q, false));
      } else {
        push('identifier', end);
      }
    } else {
      push('operator', i + 1);
    }
  }
  return tokens;
}

/** The end of a quoted token starting at `open`; a doubled quote is the quote itself. */
function quotedEnd(sql: string, open: number, quote: "'" | '"', backslashes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Block comments nest in Postgres. */
function blockCommentEnd(sql: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** `$tag$` or `$$` at `i`, or undefined when the `$` opens no dollar quote. */
function dollarTag(sql: string, i: number): string | undefined {
  let end = i + 1;
  if (end < sql.length && IDENT_START.test(sql[end] as string)) {
    end++;
    while (end < sql.length && /[A-Za-z0-9_\u0080-\uffff]/.test(sql[end] as string)) end++;
  }
  return sql[end] === '$' ? sql.slice(i, end + 1) : undefined;
}

function numberEnd(sql: string, i: number): number {
  let end = i;
  while (end < sql.length && /[0-9_]/.test(sql[end] as string)) end++;
  // `1..5` is not a number followed by `.5`, but keep that rare case simple: one dot at most.
  if (sql[end] === '.' && sql[end + 1] !== '.') {
    end++;
    while (end < sql.length && /[0-9_]/.test(sql[end] as string)) end++;
  }
  if ((sql[end] === 'e' || sql[end] === 'E') && /[0-9+-]/.test(sql[end + 1] ?? '')) {
    end += 2;
    while (end < sql.length && DIGIT.test(sql[end] as string)) end++;
  }
  return end;
}

/** Replaces every `$n` outside literals, identifiers and comments. */
export function rewritePositional(sql: string, replace: (index: number) => string): string {
  return tokenize(sql)
    .map((t) => (t.kind === 'positional' ? replace(Number(t.text.slice(1))) : t.text))
    .join('');
}

/** Replaces every `:name` outside literals, identifiers and comments (never a `::` cast). */
export function rewriteNamed(sql: string, replace: (name: string) => string): string {
  return tokenize(sql)
    .map((t) => (t.kind === 'named' ? replace(t.text.slice(1)) : t.text))
    .join('');
}

/** The highest `$n` the statement uses (0 when none). */
export function maxPositional(sql: string): number {
  let max = 0;
  for (const t of tokenize(sql)) if (t.kind === 'positional') max = Math.max(max, Number(t.text.slice(1)));
  return max;
}

const MAIN_STATEMENTS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'VALUES', 'TABLE']);

/**
 * The command tag node-postgres reports for the statement (`SELECT`, `INSERT`, ...), which the
 * Data API does not return: the first keyword, or for `WITH` the statement after the CTEs.
 * `VALUES` and `TABLE` report `SELECT`, as Postgres does.
 */
export function statementCommand(sql: string): string {
  const words = tokenize(sql).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  let depth = 0;
  let inWith = false;
  for (const t of words) {
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (t.kind === 'identifier') {
      const word = t.text.toUpperCase();
      if (!inWith) {
        if (word !== 'WITH') return word === 'VALUES' || word === 'TABLE' ? 'SELECT' : word;
        inWith = true;
      } else if (depth === 0 && MAIN_STATEMENTS.has(word)) {
        return word === 'VALUES' || word === 'TABLE' ? 'SELECT' : word;
      }
    }
  }
  return '';
}
