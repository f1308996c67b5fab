import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { CognitionError } from '../errors.js';

/** A database user's credentials, in the shape RDS and Secrets Manager use for Postgres secrets. */
export interface UserSecret {
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
  engine: 'postgres';
}

export interface SecretStore {
  /** Creates or replaces the secret stored under `id`. */
  put(id: string, secret: UserSecret): Promise<void>;
  /** Returns the secret, or undefined when none is stored. */
  get(id: string): Promise<UserSecret | undefined>;
  /** Deletes the secret; deleting a missing secret is not an error. */
  delete(id: string): Promise<void>;
  /** Ids currently stored whose id starts with prefix (for cleanup/inspection). */
  list(prefix?: string): Promise<string[]>;
}

export interface LocalSecretStoreConfig {
  kind: 'local';
  /** Directory holding `secret.key` and `secrets.json`; created with mode 0700 when missing. */
  dir: string;
}

export interface AwsSecretStoreConfig {
  kind: 'aws';
  /** Scope of `list()` when it is called without a prefix, so cleanup never walks a whole account. */
  prefix?: string;
  region?: string;
  /** Another Secrets Manager endpoint, such as the local development server. */
  endpoint?: string;
  credentials?: SecretsManagerClientConfig['credentials'];
  /** KMS key for newly created secrets; AWS uses `aws/secretsmanager` when absent. */
  kmsKeyId?: string;
}

export type SecretStoreConfig = LocalSecretStoreConfig | AwsSecretStoreConfig;

/** The id under which a user's database credentials are kept. */
export function userSecretId(prefix: string, userId: string): string {
  return `${prefix}/users/${userId}`;
}

/**
 * Builds the configured store. Both implementations are imported lazily so that the local path
 * never loads the AWS SDK (slow to load, and absent from some deployments).
 */
export async function createSecretStore(config: SecretStoreConfig): Promise<SecretStore> {
  switch (config.kind) {
    case 'local': {
      const { LocalSecretStore } = await import('./local-secret-store.js');
      return new LocalSecretStore({ dir: config.dir });
    }
    case 'aws': {
      const { AwsSecretsManagerStore } = await import('./aws-secrets-manager-store.js');
      return new AwsSecretsManagerStore({
        prefix: config.prefix,
        region: config.region,
        endpoint: config.endpoint,
        credentials: config.credentials,
        kmsKeyId: config.kmsKeyId,
      });
    }
    default: {
      const kind: unknown = (config as { kind?: unknown }).kind;
      throw new CognitionError('ERR_CONFIG', `unknown secret store kind: ${String(kind)}`, { safe: false });
    }
  }
}

// Secrets Manager's rule for secret names; the local store applies it too, so that ids stay
// portable between the two stores.
const SECRET_ID = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** Rejects ids that Secrets Manager would refuse as secret names. */
export function assertSecretId(id: string): void {
  if (typeof id !== 'string' || !SECRET_ID.test(id)) {
    throw new CognitionError(
      'ERR_INVALID_ARGUMENT',
      'secret id must be 1 to 512 characters of letters, digits and /_+=.@-',
      { safe: false, details: { id: typeof id === 'string' ? id.slice(0, 512) : typeof id } },
    );
  }
}

/** Whether some id could start with `prefix`; ids cannot hold other characters, so nothing matches. */
export function isPossibleIdPrefix(prefix: string): boolean {
  return prefix === '' || SECRET_ID.test(prefix);
}

/**
 * Parses a stored secret. The text holds the password, so neither the JSON parser's message
 * (V8 quotes the input) nor the offending values may reach the error.
 */
export function parseUserSecret(text: string, id: string): UserSecret {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CognitionError('ERR_SECRET_STORE', `secret "${id}" is not valid JSON`, { safe: false });
  }
  const problem = userSecretProblem(value);
  if (problem) {
    throw new CognitionError('ERR_SECRET_STORE', `secret "${id}" is not a database secret: ${problem}`, {
      safe: false,
    });
  }
  const secret = value as UserSecret;
  // Copy only the known fields: RDS-managed secrets may carry more (e.g. dbInstanceIdentifier).
  return {
    username: secret.username,
    password: secret.password,
    host: secret.host,
    port: secret.port,
    dbname: secret.dbname,
    engine: secret.engine,
  };
}

/** Rejects a secret that `parseUserSecret` would refuse later, before it is stored. */
export function assertUserSecret(secret: UserSecret): void {
  const problem = userSecretProblem(secret);
  if (problem) {
    throw new CognitionError('ERR_INVALID_ARGUMENT', `not a database secret: ${problem}`, { safe: false });
  }
}

/** Names the first field that is wrong, never its value. */
function userSecretProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const record = value as Record<string, unknown>;
  for (const field of ['username', 'password', 'host', 'dbname'] as const) {
    if (typeof record[field] !== 'string') return `${field} is not a string`;
  }
  const port = record['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return 'port is not a TCP port number';
  }
  if (record['engine'] !== 'postgres') return 'engine is not postgres';
  return undefined;
}
