import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
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

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

/**
 * A SecretStore in AWS Secrets Manager. The secret name is the id and the value is the RDS
 * secret JSON, so the RDS Data API and RDS tooling can use these secrets as they are.
 *
 * The SDK is imported on the first call, not with this module: a bundler hoists a static import
 * of an external package to the bundle's top, and loading the client costs a Lambda cold start
 * tens of milliseconds even where no secret is ever read from Secrets Manager.
 */
export class AwsSecretsManagerStore implements SecretStore {
  readonly prefix: string | undefined;
  private readonly kmsKeyId: string | undefined;
  private readonly options: AwsSecretsManagerStoreOptions;
  private loading: Promise<{ sdk: Sdk; client: SecretsManagerClient }> | undefined;
  private created: SecretsManagerClient | undefined;

  constructor(options: AwsSecretsManagerStoreOptions = {}) {
    this.prefix = options.prefix;
    this.kmsKeyId = options.kmsKeyId;
    this.options = options;
  }

  private sdk(): Promise<{ sdk: Sdk; client: SecretsManagerClient }> {
    this.loading ??= import('@aws-sdk/client-secrets-manager').then((sdk) => {
      const { client: given, region, endpoint, credentials } = this.options;
      if (given) return { sdk, client: given };
      this.created = new sdk.SecretsManagerClient({
        ...(region !== undefined && { region }),
        ...(endpoint !== undefined && { endpoint }),
        ...(credentials !== undefined && { credentials }),
      });
      return { sdk, client: this.created };
    });
    return this.loading;
  }

  async put(id: string, secret: UserSecret): Promise<void> {
    assertSecretId(id);
    assertUserSecret(secret);
    const SecretString = JSON.stringify(secret);
    const { sdk, client } = await this.sdk();
    // Create-then-update rather than describe-then-act: one call in the common case, and a
    // concurrent delete or create between the two steps only costs another round.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await client.send(
          new sdk.CreateSecretCommand({
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
        await client.send(new sdk.PutSecretValueCommand({ SecretId: id, SecretString }));
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
    const { sdk, client } = await this.sdk();
    let secretString: string | undefined;
    try {
      const output = await client.send(new sdk.GetSecretValueCommand({ SecretId: id }));
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
    const { sdk, client } = await this.sdk();
    try {
      // Without recovery, so that the id can be used again at once (a user removed and re-invited).
      await client.send(new sdk.DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (awsErrorName(error) === 'ResourceNotFoundException') return;
      throw storeError('DeleteSecret', id, error);
    }
  }

  async list(prefix?: string): Promise<string[]> {
    const scope = prefix ?? this.prefix ?? '';
    // The name filter only accepts id characters; a prefix with others cannot match any id.
    if (!isPossibleIdPrefix(scope)) return [];
    const { sdk, client } = await this.sdk();
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      let output;
      try {
        output = await client.send(
          new sdk.ListSecretsCommand({
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
    this.created?.destroy();
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
