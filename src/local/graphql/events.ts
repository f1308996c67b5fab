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
  type GraphQLResolveInfo,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ResolverEvent } from '../../appsync/types.js';
import type { Caller } from './auth.js';

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

export interface SelectionSetInfo {
  list: string[];
  graphql: string;
}

function directiveFlag(
  directives: readonly DirectiveNode[] | undefined,
  name: string,
  variables: Record<string, unknown>,
): boolean | undefined {
  const directive = directives?.find((d) => d.name.value === name);
  const arg = directive?.arguments?.find((a) => a.name.value === 'if');
  if (!arg) return undefined;
  const value: ValueNode = arg.value;
  if (value.kind === Kind.BOOLEAN) return value.value;
  if (value.kind === Kind.VARIABLE) return variables[value.name.value] === true;
  return undefined;
}

function included(
  node: { readonly directives?: readonly DirectiveNode[] },
  variables: Record<string, unknown>,
): boolean {
  if (directiveFlag(node.directives, 'skip', variables) === true) return false;
  return directiveFlag(node.directives, 'include', variables) !== false;
}

/**
 * `selectionSetList`: the fields below the resolved field, as `parent/child` paths, aliased
 * fields by alias, fragments flattened but only those on the field's own type (for interfaces
 * and unions: the interface's fields only). `selectionSetGraphQL`: the field's selection set
 * printed, fragments kept as written.
 */
export function selectionSetInfo(info: GraphQLResolveInfo): SelectionSetInfo {
  const list: string[] = [];
  const seen = new Set<string>();
  const fragments = info.fragments as Record<string, FragmentDefinitionNode>;
  const variables = info.variableValues;

  const collect = (selectionSet: SelectionSetNode, type: GraphQLNamedType, prefix: string): void => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, variables)) continue;
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

  const type = getNamedType(info.returnType);
  for (const node of info.fieldNodes) {
    if (node.selectionSet && included(node, variables)) collect(node.selectionSet, type, '');
  }
  const first: FieldNode | undefined = info.fieldNodes[0];
  return { list, graphql: first?.selectionSet ? print(first.selectionSet) : '' };
}

/** A JSON copy, as the Lambda service would deliver it: nothing shared with the endpoint's state. */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export function resolverEvent(
  facts: RequestFacts,
  args: Record<string, unknown>,
  source: unknown,
  info: GraphQLResolveInfo,
  selection: SelectionSetInfo,
): ResolverEvent {
  const event = {
    arguments: args,
    identity: facts.identity,
    source: info.path.prev === undefined ? null : (source ?? null),
    request: { headers: facts.headers, domainName: null },
    info: {
      fieldName: info.fieldName,
      parentTypeName: info.parentType.name,
      variables: facts.variables,
      selectionSetList: selection.list,
      selectionSetGraphQL: selection.graphql,
    },
    prev: null,
    stash: {},
  };
  return jsonCopy(event) as ResolverEvent;
}
