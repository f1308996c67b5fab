import type { RDSDataClient, RDSDataClientConfig, SqlParameter } from '@aws-sdk/client-rds-data';
import type { DataApiOutput } from './data-api-result.js';
import { fromDataApiError } from './data-api-errors.js';

/** Where the RDS Data API is and which cluster it runs statements on. */
export interface DataApiOptions {
  /** The Aurora cluster's ARN. */
  resourceArn: string;
  /** The database; the Data API otherwise uses the secret's `dbname`. */
  database?: string;
  region?: string;
  /** Another endpoint, such as the local Data API server. */
  endpoint?: string;
  credentials?: RDSDataClientConfig['credentials'];
  /**
   * Role switch: the secret (name or ARN) of cognition_authenticator. Default: the one pg-cognition
   * keeps in its secret store (`<prefix>/authenticator`).
   */
  authenticatorSecretArn?: string;
}

export interface ExecuteInput {
  secretArn: string;
  sql: string;
  parameters?: SqlParameter[];
  transactionId?: string;
}

/**
 * The four Data API calls the executor makes, with the SDK loaded on first use (a bundle that
 * never selects the Data API never loads it) and every failure mapped by fromDataApiError.
 */
export class DataApiClient {
  private constructor(
    private readonly sdk: typeof import('@aws-sdk/client-rds-data'),
    private readonly client: RDSDataClient,
    private readonly options: DataApiOptions,
  ) {}

  static async create(options: DataApiOptions): Promise<DataApiClient> {
    const sdk = await import('@aws-sdk/client-rds-data');
    const client = new sdk.RDSDataClient({
      ...(options.region !== undefined && { region: options.region }),
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(options.credentials !== undefined && { credentials: options.credentials }),
    });
    return new DataApiClient(sdk, client, options);
  }

  private get target() {
    return {
      resourceArn: this.options.resourceArn,
      ...(this.options.database !== undefined && { database: this.options.database }),
    };
  }

  /**
   * Always with column metadata (rows are keyed by column name and typed by it), and with longs
   * and decimals as strings: a JSON number cannot hold every int8.
   */
  async execute(input: ExecuteInput): Promise<DataApiOutput> {
    try {
      return await this.client.send(
        new this.sdk.ExecuteStatementCommand({
          ...this.target,
          secretArn: input.secretArn,
          sql: input.sql,
          ...(input.parameters && input.parameters.length > 0 && { parameters: input.parameters }),
          ...(input.transactionId !== undefined && { transactionId: input.transactionId }),
          includeResultMetadata: true,
          resultSetOptions: { decimalReturnType: 'STRING', longReturnType: 'STRING' },
        }),
      );
    } catch (error) {
      throw fromDataApiError(error, 'ExecuteStatement');
    }
  }

  async begin(secretArn: string): Promise<string> {
    let transactionId: string | undefined;
    try {
      ({ transactionId } = await this.client.send(
        new this.sdk.BeginTransactionCommand({ ...this.target, secretArn }),
      ));
    } catch (error) {
      throw fromDataApiError(error, 'BeginTransaction');
    }
    if (!transactionId) throw fromDataApiError(new Error('no transactionId returned'), 'BeginTransaction');
    return transactionId;
  }

  async commit(secretArn: string, transactionId: string): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.CommitTransactionCommand({
          resourceArn: this.options.resourceArn,
          secretArn,
          transactionId,
        }),
      );
    } catch (error) {
      throw fromDataApiError(error, 'CommitTransaction');
    }
  }

  async rollback(secretArn: string, transactionId: string): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.RollbackTransactionCommand({
          resourceArn: this.options.resourceArn,
          secretArn,
          transactionId,
        }),
      );
    } catch (error) {
      throw fromDataApiError(error, 'RollbackTransaction');
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}
