/**
 * Extra server settings for the scale cluster, from BENCH_PG_SETTINGS ("name=value,name=value").
 * By default none: the figures are those of the embedded Postgres that `npm start` runs; see
 * docs/scaling.md for what to set on a real server.
 */
export const SCALE_SETTINGS: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_PG_SETTINGS ?? '')
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`BENCH_PG_SETTINGS: "${pair}" is not name=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);

/** The settings that matter for many schemas, as the server reports them. */
export const REPORTED_SETTINGS = [
  'max_connections',
  'shared_buffers',
  'work_mem',
  'max_locks_per_transaction',
  'autovacuum',
  'autovacuum_naptime',
  'autovacuum_vacuum_scale_factor',
  'fsync',
  'wal_level',
  'server_version',
];
