import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cognition } from '../../src/cognition.js';
import type { SecretStore } from '../../src/secrets/secret-store.js';
import { LocalSecretStore } from '../../src/secrets/local-secret-store.js';
import type { User } from '../../src/users/users.js';
import type { UserRole } from '../../src/users/validation.js';
import { startCluster, type TestCluster } from './cluster.js';

export const NOTES_TEMPLATE = fileURLToPath(new URL('../../examples/notes/template/', import.meta.url));

export interface TestStack {
  cluster: TestCluster;
  cognition: Cognition;
  secrets: SecretStore;
  /** Invites and provisions a user. */
  user(email: string, tenant: string | null, role: UserRole): Promise<User>;
  stop(): Promise<void>;
}

/** A migrated cluster with the notes example template and a Cognition on it. */
export async function startStack(
  options: { secrets?: SecretStore; template?: string | false } = {},
): Promise<TestStack> {
  const cluster = await startCluster();
  const secrets = options.secrets ?? new LocalSecretStore({ dir: join(cluster.dir, 'secrets') });
  const cognition = Cognition.create({ databaseUrl: cluster.url, secrets, secretPrefix: 'test' });
  if (options.template !== false) {
    await cognition.migrateTemplates({ dir: options.template ?? NOTES_TEMPLATE });
  }
  return {
    cluster,
    cognition,
    secrets,
    async user(email, tenant, role) {
      await cognition.users.invite({ email, tenant, role });
      return (await cognition.users.provision(email)).user;
    },
    async stop() {
      await cognition.close().catch(() => {});
      await cluster.stop();
    },
  };
}
