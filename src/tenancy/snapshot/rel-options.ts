import pg from 'pg';

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

/** `with (...)` contents: option names as identifiers, values as literals (as pg_dump does). */
export function relOptions(options: string[] | null, toastOptions: string[] | null): string {
  const parts: string[] = [];
  const push = (option: string, prefix: string) => {
    const eq = option.indexOf('=');
    const name = eq < 0 ? option : option.slice(0, eq);
    const value = eq < 0 ? 'true' : option.slice(eq + 1);
    parts.push(`${prefix}${ident(name)}=${literal(value)}`);
  };
  for (const option of options ?? []) push(option, '');
  for (const option of toastOptions ?? []) push(option, 'toast.');
  return parts.join(', ');
}
