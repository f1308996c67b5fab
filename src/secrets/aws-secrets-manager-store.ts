import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { CognitionError } from '../errors.js';
import {
  assertSecretId,
  assertUserSecret,
  isPossibleIdPrefix,
  parseUserSecret,
  type SecretStore,
  type UserSecret,
} from './secret-store.js';

export interface AwsSecretsManagerStoreOptions {
  /** A ready client; when given, region, endpoint and credentials are ignored. */
  client?: SecretsManagerClient;
  /** Scope of `list()` when it is called without a prefix, so cleanup never walks a whole account. */
  prefix?: string;
  region?: string;
  endpoint?: string;
  credentials?: SecretsManagerClientConfig['credentials'];
  /** KMS key for newly created secrets; AWS uses `aws/secretsmanager` when absent. */
  kmsKeyId?: string;
}

/**
 * A SecretStore in AWS Secrets Manager. The secret name is the id and the value is the RDS
 * secret JSON, so the RDS Data API and RDS tooling can use these secrets as they are.
 */
export class AwsSecretsManagerStore implements SecretStore {
  readonly client: SecretsManagerClient;
  readonly prefix: string | undefined;
  private readonly kmsKeyId: string | undefined;
  private readonly ownsClient: boolean;

  constructor(options: AwsSecretsManagerStoreOptions = {}) {
    this.prefix = options.prefix;
    this.kmsKeyId = options.kmsKeyId;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new SecretsManagerClient({
        ...(options.region !== undefined && { region: options.region }),
        ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
        ...(options.credentials !== undefined && { credentials: options.credentials }),
      });
  }

  async put(id: string, secret: UserSecret): Promise<void> {
    assertSecretId(id);
    assertUserSecret(secret);
    const SecretString = JSON.stringify(secret);
    // Create-then-update rather than describe-then-act: one call in the common case, and a
    // concurrent delete or create between the two steps only costs another round.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.client.send(
          new CreateSecretCommand({
            Name: id,
            SecretString,
            ...(this.kmsKeyId !== undefined && { KmsKeyId: this.kmsKeyId }),
          }),
        );
        return;
      } catch (error) {
        if (awsErrorName(error) !== 'ResourceExistsException') throw storeError('CreateSecret', id, error);
      }
      try {
        await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString }));
        return;
      } catch (error) {
        if (awsErrorName(error) !== 'ResourceNotFoundException')
          throw storeError('PutSecretValue', id, error);
      }
    }
    throw new CognitionError(
      'ERR_SECRET_STORE',
      `secret "${id}" kept appearing and disappearing during put`,
      {
        safe: false,
      },
    );
  }

  async get(id: string): Promise<UserSecret | undefined> {
    assertSecretId(id);
    let secretString: string | undefined;
    try {
      const output = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
      secretString = output.SecretString;
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
      throw storeError('GetSecretValue', id, error);
    }
    if (secretString === undefined) {
      throw new CognitionError('ERR_SECRET_STORE', `secret "${id}" holds no SecretString`, { safe: false });
    }
    return parseUserSecret(secretString, id);
  }

  async delete(id: string): Promise<void> {
    assertSecretId(id);
    try {
      // Without recovery, so that the id can be used again at once (a user removed and re-invited).
      await this.client.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return;
      throw storeError('DeleteSecret', id, error);
    }
  }

  async list(prefix?: string): Promise<string[]> {
    const scope = prefix ?? this.prefix ?? '';
    // The name filter only accepts id characters; a prefix with others cannot match any id.
    if (!isPossibleIdPrefix(scope)) return [];
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      let output;
      try {
        output = await this.client.send(
          new ListSecretsCommand({
            ...(scope !== '' && { Filters: [{ Key: 'name', Values: [scope] }] }),
            MaxResults: 100,
            ...(nextToken !== undefined && { NextToken: nextToken }),
          }),
        );
      } catch (error) {
        throw storeError('ListSecrets', undefined, error);
      }
      for (const entry of output.SecretList ?? []) {
        // Checked again here: the contract is a plain prefix, whatever the service's filter does.
        if (entry.Name !== undefined && entry.Name.startsWith(scope)) ids.push(entry.Name);
      }
      nextToken = output.NextToken;
    } while (nextToken);
    return ids.sort();
  }

  /** Closes the client's connections, unless the client was passed in (then its owner does). */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }
}

function awsErrorName(error: unknown): string | undefined {
  // By name rather than instanceof: two copies of the SDK in one tree have distinct classes.
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The SDK error is summarized rather than kept as `cause`: on responses it cannot parse, it
 * carries the raw HTTP response, which for GetSecretValue may hold the password.
 */
function storeError(operation: string, id: string | undefined, error: unknown): CognitionError {
  const name = awsErrorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } } | null)
    ?.$metadata;
  const target = id === undefined ? '' : ` for secret "${id}"`;
  return new CognitionError(
    'ERR_SECRET_STORE',
    `Secrets Manager ${operation}${target} failed: ${name}: ${message}`,
    {
      safe: false,
      details: {
        operation,
        awsError: name,
        ...(metadata?.httpStatusCode !== undefined && { httpStatusCode: metadata.httpStatusCode }),
        ...(metadata?.requestId !== undefined && { requestId: metadata.requestId }),
      },
    },
  );
}
