import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type Queryable = pg.ClientBase | pg.Pool;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** Connections are closed once idle after this long (0: never). */
  maxLifetimeSeconds?: number;
}

// node-postgres parses numeric[] with parseFloat, losing precision that numeric exists to keep;
// its elements stay text, like a plain numeric.
const TEXT_ARRAY = 1009;
const NUMERIC_ARRAY = 1231;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    pg.types.getTypeParser(
      oid === NUMERIC_ARRAY ? TEXT_ARRAY : oid,
      format ?? 'text',
    )) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const config: pg.PoolConfig = {
    connectionString,
    types,
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    application_name: options.applicationName ?? 'pg-cognition',
    ...(options.maxLifetimeSeconds !== undefined && { maxLifetimeSeconds: options.maxLifetimeSeconds }),
  };
  const pool = new pg.Pool(config);
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Runs `fn` in a transaction on one client; rolls back on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Connection settings of a URL, for the credentials kept in the secret store. */
export function endpointOf(connectionString: string): { host: string; port: number; dbname: string } {
  const url = new URL(connectionString);
  return {
    host: decodeURIComponent(url.hostname) || 'localhost',
    port: url.port ? Number(url.port) : 5432,
    dbname: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres',
  };
}

/** The same server and database, logging in as another role. */
export function urlFor(connectionString: string, user: string, password: string): string {
  const url = new URL(connectionString);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}
