import { CognitoError, invalidParameter } from './errors.js';

/** A request body: a JSON object, fields not yet checked. */
export type Input = Record<string, unknown>;

export function requiredString(input: Input, field: string): string {
  const value = optionalString(input, field);
  if (value === undefined || value === '') {
    throw invalidParameter(
      `1 validation error detected: Value at '${lowerFirst(field)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

export function optionalString(input: Input, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new CognitoError('SerializationException', `${field} must be a string.`);
  return value;
}

export function optionalInteger(input: Input, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new CognitoError('SerializationException', `${field} must be an integer.`);
  }
  return value;
}

/** A `{"key": "value"}` map of strings (ClientMetadata, AuthParameters, ChallengeResponses). */
export function optionalStringMap(input: Input, field: string): Record<string, string> | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new CognitoError('SerializationException', `${field} must be a map of strings.`);
  }
  const map: Record<string, string> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (typeof item !== 'string') {
      throw new CognitoError('SerializationException', `${field}.${key} must be a string.`);
    }
    map[key] = item;
  }
  return map;
}

/** An `[{"Name": ..., "Value": ...}]` list as a map; undefined when absent. */
export function optionalAttributeList(input: Input, field: string): Record<string, string> | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new CognitoError('SerializationException', `${field} must be a list.`);
  const map: Record<string, string> = {};
  for (const item of value as unknown[]) {
    const { Name, Value } = (item ?? {}) as { Name?: unknown; Value?: unknown };
    if (typeof Name !== 'string' || Name === '') {
      throw invalidParameter(`${field}: every attribute needs a Name.`);
    }
    if (Value !== undefined && Value !== null && typeof Value !== 'string') {
      throw new CognitoError('SerializationException', `${field}.${Name} must be a string.`);
    }
    map[Name] = (Value as string | null | undefined) ?? '';
  }
  return map;
}

export function optionalStringList(input: Input, field: string): string[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new CognitoError('SerializationException', `${field} must be a list of strings.`);
  }
  return value as string[];
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
