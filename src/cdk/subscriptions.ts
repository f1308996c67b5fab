import {
  Kind,
  parse,
  print,
  visit,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';

/**
 * Subscriptions differ between the local endpoint and AppSync. Locally, every event is read
 * again in Postgres as the subscriber (through the subscription field's resolver) before it is
 * sent. AppSync sends each result of an `@aws_subscribe` mutation to every subscriber whose
 * arguments match, as the mutation returned it: nothing asks the database whether that
 * subscriber may see it (AppSync runs a subscription field's resolver once, at subscribe time,
 * with no source). So, unless the application opts in, the construct deploys the schema with
 * its `@aws_subscribe` directives removed: the subscription fields stay, and never fire.
 */

/** The `Type.field`s that an `@aws_subscribe` directive ties to mutations. */
export function subscribedFields(sdl: string): string[] {
  const found: string[] = [];
  const collect = (node: ObjectTypeDefinitionNode | ObjectTypeExtensionNode): void => {
    for (const field of node.fields ?? []) {
      if (field.directives?.some((d) => d.name.value === 'aws_subscribe')) {
        found.push(`${node.name.value}.${field.name.value}`);
      }
    }
  };
  for (const definition of parse(sdl).definitions) {
    if (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
      collect(definition);
    }
  }
  return found.sort();
}

/** The SDL without its `@aws_subscribe` directives (descriptions kept, `#` comments dropped). */
export function withoutSubscriptionTriggers(sdl: string): string {
  return print(
    visit(parse(sdl), {
      Directive(node) {
        return node.name.value === 'aws_subscribe' ? null : undefined;
      },
    }),
  );
}
