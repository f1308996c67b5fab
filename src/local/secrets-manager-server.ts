import { randomInt, randomUUID } from 'node:crypto';
import { readBody } from './read-body.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-memory stand-in for AWS Secrets Manager that speaks its JSON 1.1 protocol, so that the
 * official SDK client works against it by setting `endpoint`. It covers what pg-cognition uses
 * (create, put, get, delete, describe, list) with the service's error shapes; requests are not
 * authenticated.
 */

export interface SecretsManagerServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Used in ARNs only. */
  region?: string;
}

export interface SecretsManagerServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ACCOUNT_ID = '000000000000';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';
// SecretString is limited to 64 KiB; this leaves room for the rest of a request.
const MAX_BODY_BYTES = 1024 * 1024;
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
type Input = Record<string, unknown>;
type Output = Record<string, Json | undefined>;

/** Answered to the client as `{"__type": type, "message": message}` with the given status. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface Tag {
  Key: string;
  Value: string;
}

interface Version {
  id: string;
  secretString?: string;
  /** Kept base64-encoded, as it travels in JSON. */
  secretBinary?: string;
  stages: string[];
  created: number;
}

interface StoredSecret {
  name: string;
  arn: string;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  created: number;
  lastChanged: number;
  lastAccessed?: number;
  /** Set while the secret waits out its recovery window. */
  deleted?: number;
  deletionDate?: number;
  versions: Map<string, Version>;
}

export async function startSecretsManagerServer(
  options: SecretsManagerServerOptions = {},
): Promise<SecretsManagerServer> {
  const state = new SecretsManagerState(options.region ?? 'us-east-1');
  const server = createServer((request, response) => {
    void handle(state, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

async function handle(state: SecretsManagerState, request: IncomingMessage, response: ServerResponse) {
  const requestId = randomUUID();
  try {
    if (request.method !== 'POST') {
      throw new ServiceError('UnknownOperationException', 'Only POST requests are supported.', 404);
    }
    const target = request.headers['x-amz-target'];
    if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      throw new ServiceError('UnknownOperationException', 'Missing or unknown X-Amz-Target header.');
    }
    const operation = target.slice(TARGET_PREFIX.length);
    const body = await readBody(
      request,
      MAX_BODY_BYTES,
      () => new ServiceError('InvalidRequestException', 'The request body is too large.', 413),
    );
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body);
    } catch {
      throw new ServiceError('SerializationException', 'The request body is not valid JSON.');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ServiceError('SerializationException', 'The request body must be a JSON object.');
    }
    const output = state.run(operation, input as Input);
    send(response, 200, requestId, output);
  } catch (error) {
    if (error instanceof ServiceError) {
      send(response, error.status, requestId, { __type: error.type, message: error.message });
    } else {
      send(response, 500, requestId, { __type: 'InternalServiceError', message: 'Internal error.' });
    }
  }
}

function send(response: ServerResponse, status: number, requestId: string, body: Output): void {
  if (response.headersSent || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(status >= 400 && typeof body['__type'] === 'string' && { 'x-amzn-errortype': body['__type'] }),
  });
  response.end(text);
}

class SecretsManagerState {
  private readonly secrets = new Map<string, StoredSecret>();

  constructor(private readonly region: string) {}

  run(operation: string, input: Input): Output {
    this.purgeExpired();
    switch (operation) {
      case 'CreateSecret':
        return this.createSecret(input);
      case 'PutSecretValue':
        return this.putSecretValue(input);
      case 'GetSecretValue':
        return this.getSecretValue(input);
      case 'DeleteSecret':
        return this.deleteSecret(input);
      case 'DescribeSecret':
        return this.describeSecret(input);
      case 'ListSecrets':
        return this.listSecrets(input);
      default:
        throw new ServiceError('UnknownOperationException', `Operation ${operation} is not supported.`);
    }
  }

  private createSecret(input: Input): Output {
    const name = requiredString(input, 'Name');
    if (!NAME.test(name)) {
      throw new ServiceError(
        'InvalidParameterException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@',
      );
    }
    const value = secretValue(input);
    const existing = this.secrets.get(name);
    if (existing?.deleted !== undefined) {
      throw new ServiceError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing) {
      throw new ServiceError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = Date.now();
    const description = optionalString(input, 'Description');
    const kmsKeyId = optionalString(input, 'KmsKeyId');
    const secret: StoredSecret = {
      name,
      // The random suffix keeps a re-created secret from matching ARNs granted to the old one.
      arn: `arn:aws:secretsmanager:${this.region}:${ACCOUNT_ID}:secret:${name}-${randomSuffix()}`,
      ...(description !== undefined && { description }),
      ...(kmsKeyId !== undefined && { kmsKeyId }),
      tags: tags(input),
      created: now,
      lastChanged: now,
      versions: new Map(),
    };
    let versionId: string | undefined;
    if (value) {
      versionId = clientRequestToken(input) ?? randomUUID();
      secret.versions.set(versionId, { id: versionId, ...value, stages: [CURRENT], created: now });
    }
    this.secrets.set(name, secret);
    return { ARN: secret.arn, Name: name, ...(versionId !== undefined && { VersionId: versionId }) };
  }

  private putSecretValue(input: Input): Output {
    const secret = this.live(requiredString(input, 'SecretId'));
    const value = secretValue(input);
    if (!value)
      throw new ServiceError('InvalidParameterException', 'You must provide SecretString or SecretBinary.');
    const stages = optionalStrings(input, 'VersionStages') ?? [CURRENT];
    const versionId = clientRequestToken(input) ?? randomUUID();
    const existing = secret.versions.get(versionId);
    if (existing) {
      // A retried request with the same token is a no-op; a different value under it is a conflict.
      if (existing.secretString === value.secretString && existing.secretBinary === value.secretBinary) {
        return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: existing.stages };
      }
      throw new ServiceError(
        'ResourceExistsException',
        'A resource with the ID you requested already exists.',
      );
    }
    const now = Date.now();
    const version: Version = { id: versionId, ...value, stages: [], created: now };
    secret.versions.set(versionId, version);
    for (const stage of stages) moveStage(secret, stage, version);
    secret.lastChanged = now;
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: [...version.stages] };
  }

  private getSecretValue(input: Input): Output {
    const secret = this.live(requiredString(input, 'SecretId'));
    const versionId = optionalString(input, 'VersionId');
    const stage = optionalString(input, 'VersionStage');
    const wanted = stage ?? (versionId === undefined ? CURRENT : undefined);
    const version =
      versionId !== undefined
        ? secret.versions.get(versionId)
        : [...secret.versions.values()].find((v) => wanted !== undefined && v.stages.includes(wanted));
    if (!version || (wanted !== undefined && !version.stages.includes(wanted))) {
      const what =
        versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${wanted ?? CURRENT}`;
      throw new ServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for ${what}`,
      );
    }
    // The service records access by day only.
    secret.lastAccessed = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(version.secretString !== undefined && { SecretString: version.secretString }),
      ...(version.secretBinary !== undefined && { SecretBinary: version.secretBinary }),
      VersionStages: [...version.stages],
      CreatedDate: epochSeconds(version.created),
    };
  }

  private deleteSecret(input: Input): Output {
    const secret = this.find(requiredString(input, 'SecretId'));
    const force = optionalBoolean(input, 'ForceDeleteWithoutRecovery') ?? false;
    const window = optionalInteger(input, 'RecoveryWindowInDays');
    if (force && window !== undefined) {
      throw new ServiceError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (window !== undefined && (window < 7 || window > 30)) {
      throw new ServiceError(
        'InvalidParameterException',
        'RecoveryWindowInDays must be between 7 and 30 days.',
      );
    }
    const now = Date.now();
    if (force) {
      this.secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
    }
    if (secret.deleted !== undefined) {
      throw new ServiceError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was already scheduled for deletion.",
      );
    }
    secret.deleted = now;
    secret.deletionDate = now + (window ?? 30) * 86_400_000;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secret.deletionDate) };
  }

  private describeSecret(input: Input): Output {
    const secret = this.find(requiredString(input, 'SecretId'));
    const { SecretVersionsToStages, ...entry } = listEntry(secret);
    return { ...entry, RotationEnabled: false, VersionIdsToStages: SecretVersionsToStages };
  }

  private listSecrets(input: Input): Output {
    const maxResults = optionalInteger(input, 'MaxResults') ?? 100;
    if (maxResults < 1 || maxResults > 100) {
      throw new ServiceError('InvalidParameterException', 'MaxResults must be between 1 and 100.');
    }
    const offset = decodeNextToken(optionalString(input, 'NextToken'));
    const includeDeleted = optionalBoolean(input, 'IncludePlannedDeletion') ?? false;
    const filters = parseFilters(input['Filters']);
    const sortBy = optionalString(input, 'SortBy') ?? 'created-date';
    const sortOrder = optionalString(input, 'SortOrder') ?? 'asc';
    if (sortOrder !== 'asc' && sortOrder !== 'desc') {
      throw new ServiceError('InvalidParameterException', 'SortOrder must be asc or desc.');
    }
    const sortKey = SORT_KEYS[sortBy];
    if (!sortKey) throw new ServiceError('InvalidParameterException', `Invalid SortBy: ${sortBy}`);
    const matching = [...this.secrets.values()]
      .filter((secret) => includeDeleted || secret.deleted === undefined)
      .filter((secret) => filters.every((filter) => filter(secret, this.region)))
      .sort((a, b) => {
        const order = compare(sortKey(a), sortKey(b)) || compare(a.name, b.name);
        return sortOrder === 'asc' ? order : -order;
      });
    const page = matching.slice(offset, offset + maxResults);
    const next = offset + page.length;
    return {
      SecretList: page.map(listEntry),
      ...(next < matching.length && { NextToken: encodeNextToken(next) }),
    };
  }

  /** A secret by name or ARN (full, or without the random suffix), deleted or not. */
  private find(secretId: string): StoredSecret {
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    if (secretId.startsWith('arn:')) {
      for (const secret of this.secrets.values()) {
        if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
      }
    }
    throw new ServiceError('ResourceNotFoundException', NOT_FOUND);
  }

  /** A secret that is not waiting out a recovery window. */
  private live(secretId: string): StoredSecret {
    const secret = this.find(secretId);
    if (secret.deleted !== undefined) throw new ServiceError('InvalidRequestException', MARKED_FOR_DELETION);
    return secret;
  }

  private purgeExpired(): void {
    const now = Date.now();
    for (const secret of this.secrets.values()) {
      if (secret.deletionDate !== undefined && secret.deletionDate <= now) this.secrets.delete(secret.name);
    }
  }
}

/** Attaches `stage` to `version` only; moving AWSCURRENT makes the old current AWSPREVIOUS. */
function moveStage(secret: StoredSecret, stage: string, version: Version): void {
  for (const other of secret.versions.values()) {
    if (other === version || !other.stages.includes(stage)) continue;
    other.stages = other.stages.filter((s) => s !== stage);
    if (stage === CURRENT) {
      for (const v of secret.versions.values()) v.stages = v.stages.filter((s) => s !== PREVIOUS);
      other.stages.push(PREVIOUS);
    }
  }
  if (!version.stages.includes(stage)) version.stages.push(stage);
}

function listEntry(secret: StoredSecret): Output {
  const stages: Record<string, string[]> = {};
  for (const version of secret.versions.values()) {
    if (version.stages.length > 0) stages[version.id] = [...version.stages];
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description !== undefined && { Description: secret.description }),
    ...(secret.kmsKeyId !== undefined && { KmsKeyId: secret.kmsKeyId }),
    LastChangedDate: epochSeconds(secret.lastChanged),
    ...(secret.lastAccessed !== undefined && { LastAccessedDate: epochSeconds(secret.lastAccessed) }),
    ...(secret.deleted !== undefined && { DeletedDate: epochSeconds(secret.deleted) }),
    ...(secret.tags.length > 0 && { Tags: secret.tags.map((tag) => ({ ...tag })) }),
    SecretVersionsToStages: stages,
    CreatedDate: epochSeconds(secret.created),
  };
}

type Filter = (secret: StoredSecret, region: string) => boolean;

/**
 * Filters as documented for the service: every filter must match; within one filter any plain
 * value may match, and no `!`-negated value may. Matching is by prefix (case-insensitive only for
 * description); `all` matches any word of the name, description or tags.
 */
function parseFilters(value: unknown): Filter[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ServiceError('InvalidParameterException', 'Filters must be a list.');
  return value.map((item: unknown): Filter => {
    const filter = (item ?? {}) as { Key?: unknown; Values?: unknown };
    const fields = typeof filter.Key === 'string' ? FILTER_FIELDS[filter.Key] : undefined;
    if (!fields)
      throw new ServiceError('InvalidParameterException', `Invalid filter key: ${String(filter.Key)}`);
    const values = filter.Values;
    if (
      !Array.isArray(values) ||
      values.length < 1 ||
      values.length > 10 ||
      !values.every((v): v is string => typeof v === 'string' && v.length <= 512)
    ) {
      throw new ServiceError('InvalidParameterException', 'Filter values must be 1 to 10 strings.');
    }
    const caseInsensitive = filter.Key === 'description' || filter.Key === 'all';
    const norm = (s: string) => (caseInsensitive ? s.toLowerCase() : s);
    const positive = values.filter((v) => !v.startsWith('!')).map(norm);
    const negative = values.filter((v) => v.startsWith('!')).map((v) => norm(v.slice(1)));
    return (secret, region) => {
      const candidates = fields(secret, region).map(norm);
      const hit = (prefix: string) => candidates.some((c) => c.startsWith(prefix));
      return (positive.length === 0 || positive.some(hit)) && !negative.some(hit);
    };
  });
}

const FILTER_FIELDS: Record<string, ((secret: StoredSecret, region: string) => string[]) | undefined> = {
  name: (s) => [s.name],
  description: (s) => (s.description === undefined ? [] : [s.description]),
  'tag-key': (s) => s.tags.map((t) => t.Key),
  'tag-value': (s) => s.tags.map((t) => t.Value),
  'primary-region': (_s, region) => [region],
  'owning-service': () => [],
  all: (s) =>
    [s.name, s.description ?? '', ...s.tags.flatMap((t) => [t.Key, t.Value])].flatMap((text) =>
      text.split(/[^A-Za-z0-9]+/).filter((word) => word !== ''),
    ),
};

const SORT_KEYS: Record<string, ((secret: StoredSecret) => number | string) | undefined> = {
  'created-date': (s) => s.created,
  'last-changed-date': (s) => s.lastChanged,
  'last-accessed-date': (s) => s.lastAccessed ?? 0,
  name: (s) => s.name,
};

function compare(a: number | string, b: number | string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Opaque to clients, as the service's are; an offset is enough for an in-memory list.
function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodeNextToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through to the service's error
  }
  throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
}

function secretValue(input: Input): Pick<Version, 'secretString' | 'secretBinary'> | undefined {
  const secretString = optionalString(input, 'SecretString');
  const secretBinary = optionalString(input, 'SecretBinary');
  if (secretString !== undefined && secretBinary !== undefined) {
    throw new ServiceError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString !== undefined && Buffer.byteLength(secretString, 'utf8') > 65_536) {
    throw new ServiceError('InvalidParameterException', 'SecretString must be at most 65536 bytes.');
  }
  if (secretString !== undefined) return { secretString };
  if (secretBinary !== undefined) return { secretBinary };
  return undefined;
}

function clientRequestToken(input: Input): string | undefined {
  const token = optionalString(input, 'ClientRequestToken');
  if (token !== undefined && (token.length < 32 || token.length > 64)) {
    throw new ServiceError('InvalidParameterException', 'ClientRequestToken must be 32 to 64 characters.');
  }
  return token;
}

function tags(input: Input): Tag[] {
  const value = input['Tags'];
  if (value === undefined || value === null) return [];
  if (
    !Array.isArray(value) ||
    !value.every(
      (tag: unknown) =>
        typeof tag === 'object' &&
        tag !== null &&
        typeof (tag as { Key?: unknown }).Key === 'string' &&
        typeof (tag as { Value?: unknown }).Value === 'string',
    )
  ) {
    throw new ServiceError('InvalidParameterException', 'Tags must be a list of {Key, Value} strings.');
  }
  return (value as Tag[]).map(({ Key, Value }) => ({ Key, Value }));
}

function requiredString(input: Input, field: string): string {
  const value = optionalString(input, field);
  if (value === undefined || value === '') {
    throw new ServiceError('InvalidParameterException', `${field} is required.`);
  }
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new ServiceError('SerializationException', `${field} must be a string.`);
  return value;
}

function optionalStrings(input: Input, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    throw new ServiceError('InvalidParameterException', `${field} must be a non-empty list of strings.`);
  }
  return value as string[];
}

function optionalBoolean(input: Input, field: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new ServiceError('SerializationException', `${field} must be a boolean.`);
  return value;
}

function optionalInteger(input: Input, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ServiceError('SerializationException', `${field} must be an integer.`);
  }
  return value;
}

/** JSON 1.1 timestamps are epoch seconds, with fractions. */
function epochSeconds(ms: number): number {
  return ms / 1000;
}

function randomSuffix(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length: 6 }, () => alphabet[randomInt(alphabet.length)]).join('');
}
