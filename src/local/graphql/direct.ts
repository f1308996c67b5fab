import {
  coerceInputValue,
  getArgumentValues,
  isInputType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableDefinitionNode,
  typeFromAST,
  valueFromAST,
} from 'graphql';
import type { DataSourceHandler } from '../../appsync/types.js';
import type { Caller } from './auth.js';
import { invoke } from './batching.js';
import { isAllowed, type FieldAuth } from './directives.js';
import { fieldEvent, selectionSetInfo, type RequestFacts, type SelectionSetInfo } from './events.js';
import { installedField, type Prefetched } from './resolution.js';

/**
 * Direct execution of the commonest request: a query that is one data-source root field, whose
 * selection below it reads only the returned object's own properties (no nested data-source
 * fields, arguments, fragments, directives or abstract types). Such a query needs nothing of
 * graphql-js's executor but the data-source call and the completion of one JSON value, so the
 * plan does exactly that, with graphql-js's own variable and argument coercion, the fields' own
 * auth grants and the types' own serializers.
 *
 * It answers only when graphql-js would answer the same without any error. Anything else falls
 * back to the executor: before the data source is called (a variable or argument that does not
 * coerce, a field the caller may not read) nothing has run; after it (the data source failed, or
 * a value does not complete: null in a non-null field, a serializer refusing a value, ...) the
 * executor runs with the outcome already in hand (`Prefetched`), so the data source is called
 * once either way and the response, errors included, is the executor's.
 */

/** A completed value that graphql-js would have reported an error for. */
const INCOMPLETE: unique symbol = Symbol('incomplete');

type Complete = (value: unknown) => unknown;

/** One variable of the operation, its type resolved once. */
interface VariablePlan {
  readonly name: string;
  readonly node: VariableDefinitionNode;
  readonly type: GraphQLInputType;
  readonly nonNull: boolean;
  /** The coerced value, or INCOMPLETE where graphql-js reports an error. */
  readonly coerce: (value: unknown) => unknown;
}

export interface DirectPlan {
  readonly operation: OperationDefinitionNode;
  readonly variables: readonly VariablePlan[];
  readonly rootType: GraphQLObjectType;
  readonly field: GraphQLField<unknown, unknown>;
  readonly node: FieldNode;
  readonly responseKey: string;
  /** The root field's grants, then those of every field below it: all must allow the caller. */
  readonly auths: readonly FieldAuth[];
  readonly selection: SelectionSetInfo;
  readonly complete: Complete;
}

/** The value as graphql-js completes a field of `type`, or undefined if the selection is not plain enough. */
function compile(
  type: GraphQLOutputType,
  selectionSet: SelectionSetNode | undefined,
  auths: FieldAuth[],
): Complete | undefined {
  if (isNonNullType(type)) {
    const inner = compile(type.ofType, selectionSet, auths);
    if (inner === undefined) return undefined;
    return (value) => {
      const completed = inner(value);
      return completed === null ? INCOMPLETE : completed;
    };
  }
  if (isListType(type)) {
    const item = compile(type.ofType, selectionSet, auths);
    if (item === undefined) return undefined;
    return (value) => {
      if (value === null || value === undefined) return null;
      // graphql-js accepts any iterable; a data-source value is JSON, so an array or nothing.
      if (!Array.isArray(value)) return INCOMPLETE;
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) {
        const completed = item(value[i]);
        if (completed === INCOMPLETE) return INCOMPLETE;
        out[i] = completed;
      }
      return out;
    };
  }
  if (isLeafType(type)) {
    if (selectionSet !== undefined) return undefined;
    return (value) => {
      if (value === null || value === undefined) return null;
      let serialized: unknown;
      try {
        serialized = type.serialize(value);
      } catch {
        return INCOMPLETE;
      }
      return serialized === null || serialized === undefined ? INCOMPLETE : serialized;
    };
  }
  if (!isObjectType(type) || selectionSet === undefined || type.isTypeOf) return undefined;
  return compileObject(type, selectionSet, auths);
}

interface Member {
  readonly key: string;
  /** The property read (the field's name), or null for `__typename`. */
  readonly name: string | null;
  readonly complete: Complete;
}

function compileObject(
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  auths: FieldAuth[],
): Complete | undefined {
  const members: Member[] = [];
  const keys = new Set<string>();
  const fields = type.getFields();
  for (const selection of selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return undefined;
    if ((selection.directives?.length ?? 0) > 0 || (selection.arguments?.length ?? 0) > 0) return undefined;
    const name = selection.name.value;
    const key = selection.alias?.value ?? name;
    // Fields merged under one response key are the executor's business.
    if (keys.has(key)) return undefined;
    keys.add(key);
    if (name === '__typename') {
      if (selection.selectionSet !== undefined) return undefined;
      const typeName = type.name;
      members.push({ key, name: null, complete: () => typeName });
      continue;
    }
    const field = fields[name];
    if (field === undefined || name.startsWith('__')) return undefined;
    const installed = installedField(field);
    if (installed === undefined || installed.dataSource) return undefined;
    auths.push(installed.auth);
    const complete = compile(field.type, selection.selectionSet, auths);
    if (complete === undefined) return undefined;
    members.push({ key, name, complete });
  }
  return (value) => {
    if (value === null || value === undefined) return null;
    if (typeof value !== 'object' || Array.isArray(value)) return INCOMPLETE;
    // graphql-js builds its result objects without a prototype.
    const out = Object.create(null) as Record<string, unknown>;
    for (const member of members) {
      if (member.name === null) {
        out[member.key] = member.complete(undefined);
        continue;
      }
      // graphql-js's default resolver: the property, read as `source[name]`; a function there
      // would be called, which only the executor does.
      const property = (value as Record<string, unknown>)[member.name];
      if (typeof property === 'function') return INCOMPLETE;
      const completed = member.complete(property);
      if (completed === INCOMPLETE) return INCOMPLETE;
      out[member.key] = completed;
    }
    return out;
  };
}

/**
 * graphql-js's coercion of one variable value (`coerceInputValue`), with its commonest case, a
 * scalar or enum, done here: the same checks in the same order, without the type tests and
 * closures of the general walk.
 */
function coercion(type: GraphQLInputType): (value: unknown) => unknown {
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  if (isLeafType(inner)) {
    return (value) => {
      if (value === null || value === undefined) return nonNull ? INCOMPLETE : null;
      let parsed: unknown;
      try {
        parsed = inner.parseValue(value);
      } catch {
        return INCOMPLETE;
      }
      return parsed === undefined ? INCOMPLETE : parsed;
    };
  }
  return (value) => {
    let failed = false;
    const coerced = coerceInputValue(value, type, () => {
      failed = true;
    });
    return failed ? INCOMPLETE : coerced;
  };
}

/** The operation's variables as graphql-js's getVariableValues coerces them, or undefined on any error. */
function coerceVariables(
  plans: readonly VariablePlan[],
  inputs: Readonly<Record<string, unknown>>,
): Record<string, unknown> | undefined {
  const coerced: Record<string, unknown> = {};
  for (const plan of plans) {
    if (!Object.prototype.hasOwnProperty.call(inputs, plan.name)) {
      if (plan.node.defaultValue) coerced[plan.name] = valueFromAST(plan.node.defaultValue, plan.type);
      else if (plan.nonNull) return undefined;
      continue;
    }
    const value = plan.coerce(inputs[plan.name]);
    if (value === INCOMPLETE) return undefined;
    coerced[plan.name] = value;
  }
  return coerced;
}

/** The plan of a validated document, or undefined when the executor must run it. */
export function planDirect(schema: GraphQLSchema, document: DocumentNode): DirectPlan | undefined {
  if (document.definitions.length !== 1) return undefined;
  const operation = document.definitions[0];
  if (operation?.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'query') return undefined;
  if ((operation.directives?.length ?? 0) > 0) return undefined;
  if (operation.variableDefinitions?.some((v) => (v.directives?.length ?? 0) > 0)) return undefined;
  const variables: VariablePlan[] = [];
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type);
    // `__proto__` and its kind would need graphql-js's null-prototype collection; never mind.
    if (type === undefined || !isInputType(type) || name.startsWith('__')) return undefined;
    variables.push({ name, node: definition, type, nonNull: isNonNullType(type), coerce: coercion(type) });
  }
  const rootType = schema.getQueryType();
  const [node, ...others] = operation.selectionSet.selections;
  if (!rootType || node?.kind !== Kind.FIELD || others.length > 0) return undefined;
  if ((node.directives?.length ?? 0) > 0 || node.name.value.startsWith('__')) return undefined;
  const field = rootType.getFields()[node.name.value];
  const installed = field && installedField(field);
  if (!field || !installed?.dataSource) return undefined;
  const auths: FieldAuth[] = [installed.auth];
  const complete = compile(field.type, node.selectionSet, auths);
  if (complete === undefined) return undefined;
  return {
    operation,
    variables,
    rootType,
    field,
    node,
    responseKey: node.alias?.value ?? node.name.value,
    auths,
    // No directives in the plan: the selection does not depend on variables.
    selection: selectionSetInfo({
      fieldNodes: [node],
      returnType: field.type,
      fragments: {},
      variableValues: {},
    }),
    complete,
  };
}

export type DirectOutcome =
  | { readonly done: true; readonly data: Record<string, unknown> }
  | { readonly done: false; readonly prefetched?: Prefetched };

const NOT_DIRECT: DirectOutcome = Object.freeze({ done: false });

/** Runs a plan for a caller: the response data, or what the executor should start from. */
export async function runDirect(
  plan: DirectPlan,
  dataSource: DataSourceHandler,
  caller: Caller,
  facts: RequestFacts,
): Promise<DirectOutcome> {
  for (const auth of plan.auths) if (!isAllowed(auth, caller)) return NOT_DIRECT;
  const variables = coerceVariables(plan.variables, facts.variables);
  if (variables === undefined) return NOT_DIRECT;
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(plan.field, plan.node, variables);
  } catch {
    return NOT_DIRECT;
  }
  const event = fieldEvent(facts, args, null, plan.field.name, plan.rootType.name, plan.selection);
  let value: unknown;
  try {
    value = await invoke(dataSource, event);
  } catch (error) {
    return { done: false, prefetched: { node: plan.node, failed: true, error } };
  }
  const completed = plan.complete(value);
  if (completed === INCOMPLETE) {
    return { done: false, prefetched: { node: plan.node, failed: false, value } };
  }
  const data = Object.create(null) as Record<string, unknown>;
  data[plan.responseKey] = completed;
  return { done: true, data };
}
