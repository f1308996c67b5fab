import { GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

/**
 * Parsed and validated documents by query text, least recently used first. Apps send the same
 * few queries over and over; parsing and validating each once is most of the per-request work
 * saved. Validation (including AWS scalar literals) depends only on the text and the schema, so
 * failures are cached too.
 */

export type PreparedDocument =
  | { readonly document: DocumentNode; readonly errors?: undefined }
  | { readonly document?: undefined; readonly errors: readonly GraphQLError[] };

export const DEFAULT_DOCUMENT_CACHE_SIZE = 500;
/** Longer queries are prepared every time rather than kept. */
const MAX_CACHED_QUERY_LENGTH = 64 * 1024;

export interface DocumentCache {
  prepare(query: string): PreparedDocument;
  readonly size: number;
}

export function createDocumentCache(
  schema: GraphQLSchema,
  maxEntries = DEFAULT_DOCUMENT_CACHE_SIZE,
): DocumentCache {
  const entries = new Map<string, PreparedDocument>();

  function build(query: string): PreparedDocument {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: 50_000 });
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      throw error;
    }
    const errors = validate(schema, document, undefined, { maxErrors: 50 });
    return errors.length > 0 ? { errors } : { document };
  }

  return {
    prepare(query) {
      const cached = entries.get(query);
      if (cached !== undefined) {
        entries.delete(query);
        entries.set(query, cached);
        return cached;
      }
      const prepared = build(query);
      if (maxEntries > 0 && query.length <= MAX_CACHED_QUERY_LENGTH) {
        entries.set(query, prepared);
        while (entries.size > maxEntries) {
          const oldest = entries.keys().next();
          if (oldest.done) break;
          entries.delete(oldest.value);
        }
      }
      return prepared;
    },
    get size() {
      return entries.size;
    },
  };
}
