import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApp } from '../src/local/app.js';
import { startLocalStack, type LocalStack } from '../src/local/stack.js';
import { startCluster, type TestCluster } from '../test/support/cluster.js';
import type { LoadTarget } from './http-load.js';
import { idToken } from './id-token.js';

/**
 * What the GraphQL benches share: a private Postgres cluster, the local stack serving the agents
 * example (user pool + GraphQL endpoint on one port, in this process), its seed, and ID tokens
 * obtained the way a client gets them (USER_PASSWORD_AUTH against the user pool).
 */

const AGENTS_APP = fileURLToPath(new URL('../examples/agents/', import.meta.url));
export const TENANT_SCHEMA = 'tenant_mi6';
export const LEAD = 'm@mi6.test';
/** A second user, only for correctness guards: RLS must give every server the same rows. */
export const OFFICE_ADMIN = 'moneypenny@mi6.test';
/** Agents of tenant_mi6 the lead may see (all three), sent in rotation. */
export const IDS = ['1', '2', '3'];

export interface AgentsFixture {
  cluster: TestCluster;
  stack: LocalStack;
  /** `${userPool.url}/graphql` */
  graphqlUrl: string;
  /** ID token per email (LEAD, OFFICE_ADMIN). */
  tokens: Map<string, string>;
  /** Identity subject → database role, for the users of `tokens`. */
  roles: Map<string, string>;
  /** The LEAD's database role and tenant schema, for running the same SQL without GraphQL. */
  lead: { dbUsername: string; schema: string; sub: string };
  close(): Promise<void>;
}

export async function startAgentsFixture(): Promise<AgentsFixture> {
  let cluster: TestCluster | undefined;
  let home: string | undefined;
  let stack: LocalStack | undefined;
  const close = async () => {
    await stack?.close();
    await cluster?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  };
  try {
    cluster = await startCluster();
    home = await mkdtemp(join(tmpdir(), 'pgc-bench-gql-'));
    await chmod(home, 0o711);
    const app = await loadApp(AGENTS_APP);
    stack = await startLocalStack({ home, databaseUrl: cluster.url, port: 0, app });
    const seeded = await app.seed?.(stack.cognition);
    if (!seeded) throw new Error('the agents example has no seed');
    const tokens = new Map<string, string>();
    const roles = new Map<string, string>();
    let lead: AgentsFixture['lead'] | undefined;
    for (const email of [LEAD, OFFICE_ADMIN]) {
      tokens.set(email, await idToken(stack.userPool, email, seeded.password));
      const user = await stack.cognition.users.require(email);
      roles.set(user.idpSubject as string, user.dbUsername as string);
      if (email === LEAD) {
        lead = {
          dbUsername: user.dbUsername as string,
          schema: user.tenantSchema as string,
          sub: user.idpSubject as string,
        };
      }
    }
    return {
      cluster,
      stack,
      graphqlUrl: `${stack.userPool.url}/graphql`,
      tokens,
      roles,
      lead: lead as AgentsFixture['lead'],
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** A load target: POST `url` with one body per id of IDS, the token as a Bearer credential. */
export function graphqlTarget(url: string, query: string, token: string): LoadTarget {
  const { hostname, port, pathname } = new URL(url);
  return {
    host: hostname,
    port: Number(port),
    path: pathname,
    bodies: IDS.map((id) => JSON.stringify({ query, variables: { id } })),
    headers: { Authorization: `Bearer ${token}` },
  };
}
