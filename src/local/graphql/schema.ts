import {
  buildASTSchema,
  concatAST,
  GraphQLError,
  Kind,
  parse,
  validateSchema,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { CognitionError } from '../../errors.js';
import { AWS_DIRECTIVE_NAMES, directiveDefinitions } from './directives.js';
import { installScalars, scalarDefinitions } from './scalars.js';
import { assertNoTenantArguments } from './tenant-arguments.js';

/**
 * The app's SDL in AppSync's dialect, made into an executable schema: the AWS scalars and
 * directives it uses without declaring are declared before it, the scalars get their
 * validation, and schemas that let a client name a tenant are refused.
 */

function configError(message: string, cause?: unknown): CognitionError {
  return new CognitionError('ERR_CONFIG', `GraphQL schema: ${message}`, {
    safe: false,
    ...(cause === undefined ? {} : { cause }),
  });
}

function describe(error: unknown): string {
  if (error instanceof GraphQLError) return error.toString();
  return error instanceof Error ? error.message : String(error);
}

function declaredNames(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.DIRECTIVE_DEFINITION || definition.kind === Kind.SCALAR_TYPE_DEFINITION) {
      names.add(definition.name.value);
    }
  }
  return names;
}

export function buildAppSyncSchema(sdl: string): GraphQLSchema {
  if (typeof sdl !== 'string' || sdl.trim() === '') throw configError('the schema (SDL) is required');
  let document: DocumentNode;
  try {
    document = parse(sdl);
  } catch (error) {
    throw configError(describe(error), error);
  }
  const declared = declaredNames(document);
  const prelude = parse(`${scalarDefinitions(declared)}\n${directiveDefinitions(declared)}\n`);

  let schema: GraphQLSchema;
  try {
    schema = buildASTSchema(concatAST([prelude, document]));
  } catch (error) {
    throw configError(describe(error), error);
  }
  const problems = validateSchema(schema);
  if (problems.length > 0) throw configError(problems.map(describe).join('\n'));
  if (!schema.getQueryType()) throw configError('a Query type is required');

  installScalars(schema);
  assertNoTenantArguments(schema, new Set(AWS_DIRECTIVE_NAMES));
  return schema;
}
