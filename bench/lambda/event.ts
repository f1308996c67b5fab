import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(
  new URL('../../../shared/fixtures/appsync/invoke-cognito.json', import.meta.url),
);

/**
 * AppSync's direct-Lambda Invoke event for a user-pool caller (the AWS documentation's sample,
 * ../shared/fixtures/appsync/invoke-cognito.json), re-pointed at a real user and a real field:
 * the caller's Cognito subject and email, and `Query.agent(id)` selecting the codename.
 */
export async function invokeEvent(sub: string, email: string, id: string): Promise<Record<string, unknown>> {
  const event = JSON.parse(await readFile(FIXTURE, 'utf8')) as {
    arguments: Record<string, unknown>;
    identity: { sub: string; username: string; claims: Record<string, unknown> };
    info: Record<string, unknown>;
  };
  event.arguments = { id };
  event.identity.sub = sub;
  event.identity.username = sub;
  event.identity.claims = { ...event.identity.claims, sub, 'cognito:username': sub, email };
  event.info = {
    ...event.info,
    fieldName: 'agent',
    parentTypeName: 'Query',
    variables: { id },
    selectionSetList: ['codename'],
    selectionSetGraphQL: '{\n  codename\n}',
  };
  return event;
}
