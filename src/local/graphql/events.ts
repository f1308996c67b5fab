import type { IncomingHttpHeaders } from 'node:http';
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  print,
  type DirectiveNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ResolverEvent } from '../../appsync/types.js';
import type { Caller } from './auth.js';
import { jsonCopy } from './json-copy.js';

export { jsonCopy };

/**
 * The direct-Lambda resolver event, built exactly as AppSync sends it (NOTES.md §1,
 * invoke-*.json): `arguments, identity, source, request{headers, domainName}, info{fieldName,
 * parentTypeName, variables, selectionSetList, selectionSetGraphQL}, prev, stash`.
 */

/** What every event of one request shares. */
export interface RequestFacts {
  /** Lower-case names, multiple values joined with ", ", without `cookie`. */
  readonly headers: Readonly<Record<string, string>>;
  readonly identity: ResolverEvent['identity'];
  /** The variables as the client sent them. */
  readonly variables: Readonly<Record<string, unknown>>;
}

export function eventHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || lower === 'cookie') continue;
    result[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return result;
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** One TCP address without `x-forwarded-for`, else its list followed by the TCP address. */
export function sourceIps(headers: IncomingHttpHeaders, remoteAddress: string | undefined): string[] {
  const forwarded = headers['x-forwarded-for'];
  const list = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (remoteAddress) list.push(plainAddress(remoteAddress));
  return list;
}

/** `identity` of the event: the user pool identity, or null for API keys. */
export function eventIdentity(caller: Caller, sourceIp: readonly string[]): ResolverEvent['identity'] {
  if (caller.mode === 'API_KEY') return null;
  const { token } = caller;
  return {
    sub: token.sub,
    issuer: caller.issuer,
    username: token.username,
    claims: { ...token.claims },
    sourceIp: [...sourceIp],
    defaultAuthStrategy: 'ALLOW',
    groups: token.groups.length > 0 ? [...token.groups] : null,
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

// The last identity built per caller (callers are kept by the authenticator while their token
// is valid), and the source addresses it was built for.
const identities = new WeakMap<Caller, { sourceIp: string; identity: ResolverEvent['identity'] }>();

/**
 * `eventIdentity`, frozen and built once per caller and source addresses: requests facts only
 * ever copy it into events, so a caller's repeated requests can share it.
 */
export function requestIdentity(caller: Caller, sourceIp: readonly string[]): ResolverEvent['identity'] {
  if (caller.mode === 'API_KEY') return null;
  const key = sourceIp.join(', ');
  const known = identities.get(caller);
  if (known !== undefined && known.sourceIp === key) return known.identity;
  const identity = deepFreeze(eventIdentity(caller, sourceIp));
  identities.set(caller, { sourceIp: key, identity });
  return identity;
}

export interface SelectionSetInfo {
  list: string[];
  graphql: string;
}

/** What `selectionSetInfo` reads of a resolver's info (a GraphQLResolveInfo has all of it). */
export interface SelectionSource {
  readonly fieldNodes: readonly FieldNode[];
  readonly returnType: GraphQLOutputType;
  readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>;
  readonly variableValues: Readonly<Record<string, unknown>>;
}

/** Whether the walk read a variable (an `@include(if: $x)` / `@skip(if: $x)` on the way). */
interface Walk {
  readonly variables: Readonly<Record<string, unknown>>;
  usedVariables: boolean;
}

function directiveFlag(
  directives: readonly DirectiveNode[] | undefined,
  name: string,
  walk: Walk,
): boolean | undefined {
  const directive = directives?.find((d) => d.name.value === name);
  const arg = directive?.arguments?.find((a) => a.name.value === 'if');
  if (!arg) return undefined;
  const value: ValueNode = arg.value;
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE) {
    walk.usedVariables = true;
    return walk.variables[value.name.value] === true;
  }
  return undefined;
}

function included(node: { readonly directives?: readonly DirectiveNode[] }, walk: Walk): boolean {
  if (node.directives === undefined || node.directives.length === 0) return true;
  if (directiveFlag(node.directives, 'skip', walk) === true) return false;
  return directiveFlag(node.directives, 'include', walk) !== false;
}

function buildSelectionSetInfo(source: SelectionSource, walk: Walk): SelectionSetInfo {
  const list: string[] = [];
  const seen = new Set<string>();
  const fragments = source.fragments;

  const collect = (selectionSet: SelectionSetNode, type: GraphQLNamedType, prefix: string): void => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, walk)) continue;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        const key = prefix + (selection.alias?.value ?? name);
        if (!seen.has(key)) {
          seen.add(key);
          list.push(key);
        }
        const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
        if (selection.selectionSet && field)
          collect(selection.selectionSet, getNamedType(field.type), `${key}/`);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition?.name.value;
        if (condition === undefined || condition === type.name) collect(selection.selectionSet, type, prefix);
      } else {
        const fragment = fragments[selection.name.value];
        if (fragment && fragment.typeCondition.name.value === type.name) {
          collect(fragment.selectionSet, type, prefix);
        }
      }
    }
  };

  const type = getNamedType(source.returnType);
  for (const node of source.fieldNodes) {
    if (node.selectionSet && included(node, walk)) collect(node.selectionSet, type, '');
  }
  const first: FieldNode | undefined = source.fieldNodes[0];
  return { list, graphql: first?.selectionSet ? print(first.selectionSet) : '' };
}

// Selection set infos that do not depend on variables, by field node (of a cached document)
// and the field's type: the same for every request that sends the same query text.
const selections = new WeakMap<FieldNode, Map<GraphQLNamedType, SelectionSetInfo>>();

/**
 * `selectionSetList`: the fields below the resolved field, as `parent/child` paths, aliased
 * fields by alias, fragments flattened but only those on the field's own type (for interfaces
 * and unions: the interface's fields only). `selectionSetGraphQL`: the field's selection set
 * printed, fragments kept as written. Kept per field node unless `@skip`/`@include` read a
 * variable on the way (shared: events only ever get copies of it).
 */
export function selectionSetInfo(source: SelectionSource): SelectionSetInfo {
  const node = source.fieldNodes.length === 1 ? source.fieldNodes[0] : undefined;
  const type = getNamedType(source.returnType);
  const known = node && selections.get(node)?.get(type);
  if (known) return known;
  const walk: Walk = { variables: source.variableValues, usedVariables: false };
  const built = buildSelectionSetInfo(source, walk);
  if (node && !walk.usedVariables) {
    let byType = selections.get(node);
    if (byType === undefined) selections.set(node, (byType = new Map()));
    byType.set(type, built);
  }
  return built;
}

export function resolverEvent(
  facts: RequestFacts,
  args: Record<string, unknown>,
  source: unknown,
  info: GraphQLResolveInfo,
  selection: SelectionSetInfo,
): ResolverEvent {
  return fieldEvent(
    facts,
    args,
    info.path.prev === undefined ? null : (source ?? null),
    info.fieldName,
    info.parentType.name,
    selection,
  );
}

/** The event of one field, its parts named rather than read from a resolver's info. */
export function fieldEvent(
  facts: RequestFacts,
  args: Record<string, unknown>,
  source: unknown,
  fieldName: string,
  parentTypeName: string,
  selection: SelectionSetInfo,
): ResolverEvent {
  const event = {
    arguments: args,
    identity: facts.identity,
    source,
    request: { headers: facts.headers, domainName: null },
    info: {
      fieldName,
      parentTypeName,
      variables: facts.variables,
      selectionSetList: selection.list,
      selectionSetGraphQL: selection.graphql,
    },
    prev: null,
    stash: {},
  };
  return jsonCopy(event) as ResolverEvent;
}
