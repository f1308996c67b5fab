import { isDeepStrictEqual } from 'node:util';
import { IDS, LEAD, OFFICE_ADMIN } from './graphql-fixture.js';

/**
 * The GraphQL bench's correctness guard, run before anything is timed: both servers answer the
 * same data for both users (row-level security at work: the office administrator sees some
 * agents, not all), and both refuse a forged, a malformed and a missing token.
 */

export interface GuardedServer {
  url: string;
  /** The query for each variant, in this server's dialect (same selection, same response keys). */
  queries: readonly string[];
}

interface GraphqlAnswer {
  status: number;
  text: string;
  body: { data?: unknown; errors?: unknown[] };
}

export async function post(
  url: string,
  query: string,
  variables: unknown,
  authorization?: string,
): Promise<GraphqlAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await response.text();
  let body: GraphqlAnswer['body'];
  try {
    body = JSON.parse(text) as GraphqlAnswer['body'];
  } catch {
    body = { errors: [text] };
  }
  return { status: response.status, text, body };
}

export async function guard(
  ours: GuardedServer,
  theirs: GuardedServer,
  tokens: ReadonlyMap<string, string>,
): Promise<void> {
  for (let v = 0; v < ours.queries.length; v++) {
    for (const [email, token] of tokens) {
      let seen = 0;
      for (const id of [...IDS, '999']) {
        const a = await post(ours.url, ours.queries[v] as string, { id }, `Bearer ${token}`);
        const b = await post(theirs.url, theirs.queries[v] as string, { id }, `Bearer ${token}`);
        if (a.status !== 200 || a.body.errors || b.status !== 200 || b.body.errors) {
          throw new Error(`guard: ${email} id ${id}: ${JSON.stringify(a)} / ${JSON.stringify(b)}`);
        }
        if (!isDeepStrictEqual(a.body.data, b.body.data)) {
          throw new Error(
            `guard: ${email} id ${id}: different data ${JSON.stringify(a.body.data)} / ${JSON.stringify(b.body.data)}`,
          );
        }
        const visible = (a.body.data as { agent: unknown }).agent !== null;
        if (visible) seen++;
        if (email === LEAD && visible !== (id !== '999')) {
          throw new Error(`guard: the lead should see agent ${id} iff it exists`);
        }
      }
      if (email === OFFICE_ADMIN && (seen === 0 || seen === IDS.length)) {
        throw new Error(`guard: the office administrator sees ${seen} of ${IDS.length} agents`);
      }
    }
  }
  const lead = tokens.get(LEAD) as string;
  const [header, payload, signature] = lead.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
  for (const bad of [`Bearer ${forged}`, 'Bearer not-a-token', undefined]) {
    for (const server of [ours, theirs]) {
      const answer = await post(server.url, server.queries[0] as string, { id: '1' }, bad);
      if (answer.status < 400 || (answer.body.data ?? null) !== null) {
        throw new Error(`guard: ${server.url} accepted an invalid token: ${JSON.stringify(answer)}`);
      }
    }
  }
}
