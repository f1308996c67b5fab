import type { ParseArgsConfig } from 'node:util';
import { CognitionError } from '../errors.js';
import type { Output } from './output.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  /** Words that select the command, e.g. ['tenant', 'create']. */
  path: string[];
  summary: string;
  usage: string;
  /** Longer help: what it does, options, examples. */
  help: string;
  options?: OptionSpec;
  /** How many positional arguments it takes. */
  positionals?: { min: number; max: number };
  run(args: { positionals: string[]; values: Values }, out: Output): Promise<number | void>;
}

export function usageError(message: string): CognitionError {
  return new CognitionError('ERR_USAGE', message);
}

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw usageError(`--${name} takes a value`);
  return value;
}

export function requiredOption(values: Values, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined) throw usageError(`--${name} is required`);
  return value;
}
