import { resolvers } from '../../examples/agents/resolvers.js';
import { createDataSource } from '../../src/appsync/data-source.js';
import { claimsOf } from '../../src/appsync/identity.js';
import type { ResolverEvent } from '../../src/appsync/types.js';
import { Cognition } from '../../src/cognition.js';
import type { ExecResult } from '../../src/db/executor.js';
import { createPool } from '../../src/db/pool.js';
import { connectionFromEnv, type Env } from '../../src/secrets/lambda-env.js';

export interface WarmSetup {
  /** The data-source handler, as src/appsync/lambda.ts builds it from the environment. */
  handler: (event: ResolverEvent) => Promise<unknown>;
  /** The resolver's statement, as the same user with the same claims, through the handler's own pool. */
  query: () => Promise<ExecResult>;
  /** The same statement, schema-qualified, as the superuser (no role switch, no RLS), on a pool of its own. */
  raw: () => Promise<unknown>;
  close: () => Promise<void>;
}

/**
 * What src/appsync/lambda.ts does on its first invocation (connection from the environment,
 * then createDataSource, whose Cognition gets 2 admin and 10 executor connections), except
 * that the Cognition is made here, so that the bench can run the handler's statement through
 * the very pool the handler uses.
 */
export async function setup(
  env: Env,
  event: ResolverEvent,
  as: { dbUsername: string; schema: string },
): Promise<WarmSetup> {
  const connection = await connectionFromEnv(env);
  const cognition = Cognition.create({ ...connection, adminPoolSize: 2, executorPoolSize: 10 });
  const dataSource = createDataSource({ cognition, resolvers });
  const executor = await cognition.executor('role-switch');
  const sql = resolvers['Query.agent']?.sql as string;
  const claims = claimsOf(event.identity, 'cognito');
  const args = (event as unknown as { arguments: { id: string } }).arguments;
  const rawPool = createPool(connection.databaseUrl, { max: 1 });
  const rawSql = sql.replace(/\bfrom agents\b/, `from ${as.schema}.agents`);
  return {
    handler: (e) => dataSource.handler(e),
    query: () => executor.run({ ...as, ...(claims && { claims }) }, sql, [args.id]),
    raw: () => rawPool.query({ name: 'bench_raw', text: rawSql, values: [args.id] }),
    close: async () => {
      await rawPool.end();
      await dataSource.close();
      await cognition.close();
    },
  };
}
