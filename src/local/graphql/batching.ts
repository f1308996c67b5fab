import DataLoader from 'dataloader';
import type { BatchItemResult, DataSourceHandler, ResolverEvent } from '../../appsync/types.js';
import { AppSyncError, fromDataSourceError } from './errors.js';
import { jsonCopy } from './events.js';

/**
 * Calling the data source like AppSync calls a direct Lambda resolver.
 *
 * - Invoke (root fields, or every field when batching is off): one event; the return value is
 *   the field's value; a throw is a field error (errorType = error name).
 * - BatchInvoke (nested fields): the events of one `Type.field` collected by a per-request
 *   DataLoader, sent as one array (at most `maxBatchSize` per call); the answer must be a list of
 *   `{ data, errorMessage, errorType }` in the same order. An item with `errorMessage` fails that
 *   field only; a throw fails every field of the batch.
 *
 * Events and results are JSON copies: the handler can neither see nor change the endpoint's
 * objects, as across the Lambda boundary.
 */

/** AppSync's documented range of maxBatchSize; 0 turns batching off. */
export const MAX_BATCH_SIZE_LIMIT = 2000;
export const DEFAULT_MAX_BATCH_SIZE = 1000;

export async function invoke(dataSource: DataSourceHandler, event: ResolverEvent): Promise<unknown> {
  let result: unknown;
  try {
    result = await dataSource(event);
  } catch (error) {
    throw fromDataSourceError(error);
  }
  return jsonCopy(result) ?? null;
}

/** One item of a BatchInvoke answer: its `data`, or the error its `errorMessage` describes. */
function batchItem(item: unknown): unknown {
  // "It's valid to have null items in the response list"; an item that is not a
  // `{ data, ... }` map resolves through `.data` to null.
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return null;
  const { data, errorMessage, errorType } = item as BatchItemResult;
  if (typeof errorMessage === 'string' && errorMessage !== '') {
    return new AppSyncError(errorMessage, typeof errorType === 'string' ? errorType : null, {
      data: data ?? null,
    });
  }
  return data ?? null;
}

export function createBatchLoader(
  dataSource: DataSourceHandler,
  maxBatchSize: number,
): DataLoader<ResolverEvent, unknown> {
  return new DataLoader<ResolverEvent, unknown>(
    async (events) => {
      let results: unknown;
      try {
        results = jsonCopy(await dataSource([...events]));
      } catch (error) {
        const failure = fromDataSourceError(error);
        return events.map(() => failure);
      }
      if (!Array.isArray(results) || results.length !== events.length) {
        const count = Array.isArray(results) ? `${results.length} results` : 'no list';
        const failure = new AppSyncError(
          `The data source answered a BatchInvoke of ${events.length} events with ${count}; ` +
            'it must return one { data, errorMessage, errorType } item per event, in order.',
          'Lambda:BatchResponseMismatch',
        );
        return events.map(() => failure);
      }
      return results.map(batchItem);
    },
    { cache: false, maxBatchSize },
  );
}
