import type { SecretStore, UserSecret } from '../../src/secrets/secret-store.js';

/**
 * Secrets kept in memory: the scale benches provision a thousand users, and the local store
 * rewrites its whole file on every write, which would measure the disk rather than Postgres.
 */
export class MemorySecretStore implements SecretStore {
  private readonly secrets = new Map<string, UserSecret>();

  async put(id: string, secret: UserSecret): Promise<void> {
    this.secrets.set(id, { ...secret });
  }

  async get(id: string): Promise<UserSecret | undefined> {
    const secret = this.secrets.get(id);
    return secret && { ...secret };
  }

  async delete(id: string): Promise<void> {
    this.secrets.delete(id);
  }

  async list(prefix = ''): Promise<string[]> {
    return [...this.secrets.keys()].filter((id) => id.startsWith(prefix));
  }
}
