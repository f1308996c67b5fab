import {
  getDirectiveValues,
  isObjectType,
  type ConstDirectiveNode,
  type GraphQLDirective,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';

/**
 * AppSync's schema directives. The app's SDL uses them without declaring them, as on AppSync;
 * `directiveDefinitions` declares the ones it does not declare itself.
 *
 * Authorization: a field with auth directives allows exactly those modes; a field without any
 * uses its type's; a type without any uses the API's default mode. `cognito_groups` narrows a
 * user-pool grant to callers in one of the groups. `@aws_auth` is AppSync's older user-pool-only
 * form and, as in AWS's own AppSync simulator, is allowed on fields only.
 */

export type AuthMode = 'AMAZON_COGNITO_USER_POOLS' | 'API_KEY' | 'AWS_IAM' | 'OPENID_CONNECT' | 'AWS_LAMBDA';

/** The modes this local endpoint can authenticate (the others can be declared, never matched). */
export type LocalAuthMode = Extract<AuthMode, 'AMAZON_COGNITO_USER_POOLS' | 'API_KEY'>;

const DIRECTIVE_SDL: Record<string, string> = {
  aws_cognito_user_pools:
    'directive @aws_cognito_user_pools(cognito_groups: [String]) on OBJECT | FIELD_DEFINITION',
  aws_auth: 'directive @aws_auth(cognito_groups: [String]) on FIELD_DEFINITION',
  aws_api_key: 'directive @aws_api_key on OBJECT | FIELD_DEFINITION',
  aws_iam: 'directive @aws_iam on OBJECT | FIELD_DEFINITION',
  aws_oidc: 'directive @aws_oidc on OBJECT | FIELD_DEFINITION',
  aws_lambda: 'directive @aws_lambda on OBJECT | FIELD_DEFINITION',
  aws_subscribe: 'directive @aws_subscribe(mutations: [String]) on FIELD_DEFINITION',
};

export const AWS_DIRECTIVE_NAMES: readonly string[] = Object.keys(DIRECTIVE_SDL);

const AUTH_DIRECTIVE_MODES: Record<string, AuthMode> = {
  aws_cognito_user_pools: 'AMAZON_COGNITO_USER_POOLS',
  aws_auth: 'AMAZON_COGNITO_USER_POOLS',
  aws_api_key: 'API_KEY',
  aws_iam: 'AWS_IAM',
  aws_oidc: 'OPENID_CONNECT',
  aws_lambda: 'AWS_LAMBDA',
};

/** `directive @aws_...` for the names the app's SDL does not declare itself. */
export function directiveDefinitions(alreadyDeclared: ReadonlySet<string>): string {
  return AWS_DIRECTIVE_NAMES.filter((name) => !alreadyDeclared.has(name))
    .map((name) => DIRECTIVE_SDL[name])
    .join('\n');
}

/** One way in: a mode, and for user pools the groups of which the caller must be in one (null: any). */
export interface AuthGrant {
  readonly mode: AuthMode;
  readonly groups: readonly string[] | null;
}

/** Who may resolve one field: any one grant suffices. */
export interface FieldAuth {
  readonly grants: readonly AuthGrant[];
  /** Where the grants come from, for messages and tests. */
  readonly source: 'field' | 'type' | 'default';
}

/** What the auth check needs to know about a caller. */
export interface AuthSubject {
  readonly mode: LocalAuthMode;
  readonly groups: readonly string[];
}

function grantsOf(
  schema: GraphQLSchema,
  nodes: ReadonlyArray<{ readonly directives?: ReadonlyArray<ConstDirectiveNode> | undefined }>,
): AuthGrant[] {
  const grants: AuthGrant[] = [];
  for (const node of nodes) {
    for (const directive of node.directives ?? []) {
      const name = directive.name.value;
      const mode = AUTH_DIRECTIVE_MODES[name];
      if (mode === undefined) continue;
      const definition = schema.getDirective(name) as GraphQLDirective;
      const values = getDirectiveValues(definition, { directives: [directive] }) ?? {};
      const groups = values['cognito_groups'];
      grants.push({
        mode,
        groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : null,
      });
    }
  }
  return grants;
}

/** The grants of `type.field`: the field's directives, else its type's, else the default mode. */
export function fieldAuth(
  schema: GraphQLSchema,
  type: GraphQLObjectType,
  field: GraphQLField<unknown, unknown>,
  defaultMode: AuthMode,
): FieldAuth {
  const onField = grantsOf(schema, field.astNode ? [field.astNode] : []);
  if (onField.length > 0) return { grants: onField, source: 'field' };
  const onType = grantsOf(schema, [...(type.astNode ? [type.astNode] : []), ...type.extensionASTNodes]);
  if (onType.length > 0) return { grants: onType, source: 'type' };
  return { grants: [{ mode: defaultMode, groups: null }], source: 'default' };
}

export function isAllowed(auth: FieldAuth, subject: AuthSubject): boolean {
  return auth.grants.some(
    (grant) =>
      grant.mode === subject.mode &&
      (grant.groups === null || grant.groups.some((group) => subject.groups.includes(group))),
  );
}

/**
 * `@aws_subscribe(mutations: [...])` of the Subscription type: subscription field name → the
 * mutation fields whose results it delivers. The extension point for the real-time endpoint.
 */
export function subscriptionTriggers(schema: GraphQLSchema): Map<string, string[]> {
  const triggers = new Map<string, string[]>();
  const subscription = schema.getSubscriptionType();
  const directive = schema.getDirective('aws_subscribe');
  if (!subscription || !directive) return triggers;
  for (const field of Object.values(subscription.getFields())) {
    if (!field.astNode) continue;
    const values = getDirectiveValues(directive, field.astNode);
    const mutations = values?.['mutations'];
    if (Array.isArray(mutations)) {
      triggers.set(
        field.name,
        mutations.filter((m): m is string => typeof m === 'string'),
      );
    }
  }
  return triggers;
}

/** Every object type's fields, introspection types excepted. */
export function* objectFields(
  schema: GraphQLSchema,
): Generator<[GraphQLObjectType, GraphQLField<unknown, unknown>]> {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) yield [type, field];
  }
}
