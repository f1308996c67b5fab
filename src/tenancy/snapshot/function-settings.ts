import pg from 'pg';
import { CognitionError } from '../../errors.js';
import type { SqlChunk } from './types.js';

const ident = pg.escapeIdentifier;
const literal = pg.escapeLiteral;

/** GUCs whose values are lists of identifiers (GUC_LIST_QUOTE in guc_tables.c). */
const LIST_GUCS = new Set([
  'search_path',
  'temp_tablespaces',
  'local_preload_libraries',
  'session_preload_libraries',
]);

/**
 * One `proconfig` entry (`name=value`) as a SET clause. List settings such as search_path are
 * split into their elements; an element that names the template schema becomes the tenant
 * schema.
 */
export function configClause(item: string, templateSchema: string): SqlChunk[] {
  const eq = item.indexOf('=');
  const name = item.slice(0, eq);
  const value = item.slice(eq + 1);
  if (!LIST_GUCS.has(name.toLowerCase())) return [`\n set ${ident(name)} to ${literal(value)}`];
  const chunks: SqlChunk[] = [`\n set ${ident(name)} to `];
  const elements = splitIdentifierList(value);
  if (elements.length === 0) return [`\n set ${ident(name)} to ''`];
  elements.forEach((element, i) => {
    if (i > 0) chunks.push(', ');
    chunks.push(element === templateSchema ? { target: 'literal' } : literal(element));
  });
  return chunks;
}

/** Splits `a, "B c", "d""e"` (as flatten_set_variable_args stores list settings) into names. */
function splitIdentifierList(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < value.length && /\s/.test(value.charAt(i))) i++;
  };
  skipSpace();
  if (i >= value.length) return out;
  for (;;) {
    skipSpace();
    let name = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length)
          throw new CognitionError('ERR_CLONE_FAILED', `unterminated name in setting ${value}`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            name += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        name += value[i];
        i++;
      }
    } else {
      while (i < value.length && value[i] !== ',' && !/\s/.test(value.charAt(i))) {
        name += value[i];
        i++;
      }
      name = name.toLowerCase();
    }
    out.push(name);
    skipSpace();
    if (i >= value.length) break;
    if (value[i] !== ',') throw new CognitionError('ERR_CLONE_FAILED', `cannot parse the setting ${value}`);
    i++;
  }
  return out;
}
