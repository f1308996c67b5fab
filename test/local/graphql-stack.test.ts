import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../src/local/stack.js';
import { startAgentsStack, type AgentsStack } from '../support/agents-stack.js';

interface GraphqlResponse {
  data?: Record<string, unknown> | null;
  errors?: { errorType?: string; message: string; path?: (string | number)[] }[];
}

// The README's promise end to end: log in with the AWS SDK against the local user pool, call
// /graphql with the token, and get exactly what Postgres grants that user.
describe('local stack: GraphQL over the agents application', () => {
  let agents: AgentsStack;
  let stack: LocalStack;
  const token = (email: string) => agents.token(email);
  const query = async (authorization: string, q: string, variables?: Record<string, unknown>) => {
    const response = await fetch(`${stack.userPool.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: q, variables }),
    });
    return { status: response.status, body: (await response.json()) as GraphqlResponse };
  };

  beforeAll(async () => {
    agents = await startAgentsStack();
    stack = agents.stack;
  });
  afterAll(async () => {
    await agents?.stop();
  });

  it('gives the agency lead every agent of the agency, with real names', async () => {
    const { status, body } = await query(await token('m@mi6.test'), '{ agents { codename realName } }');
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const agents = body.data?.agents as { codename: string; realName: string }[];
    expect(agents.map((a) => a.codename).sort()).toEqual(['006', '007', '009']);
    expect(agents.find((a) => a.codename === '007')?.realName).toBe('James Bond');
  });

  it("gives an office administrator only their office's agents, and no real names", async () => {
    const auth = await token('kerim@mi6.test');
    const { body } = await query(auth, '{ agents { codename } }');
    expect((body.data?.agents as { codename: string }[]).map((a) => a.codename)).toEqual(['006']);
    const denied = await query(auth, '{ agents { codename realName } }');
    expect(denied.body.errors?.length).toBeGreaterThan(0);
    expect(denied.body.errors?.every((e) => e.errorType === 'Unauthorized')).toBe(true);
    expect(denied.body.errors?.[0]?.path).toEqual(['agents', 0, 'realName']);
    expect(JSON.stringify(denied.body)).not.toContain('Alec Trevelyan');
  });

  it("shows another agency's lead none of these rows", async () => {
    // Ids are per tenant schema (each has its own sequences), so compare what the rows say.
    const cia = await query(await token(ciaLead()), '{ agents { codename realName } }');
    expect(cia.body.errors).toBeUndefined();
    const ciaAgents = cia.body.data?.agents as { codename: string; realName: string }[];
    expect(ciaAgents.length).toBeGreaterThan(0);
    const text = JSON.stringify(ciaAgents);
    for (const mi6 of ['007', '006', '009', 'James Bond', 'Alec Trevelyan']) expect(text).not.toContain(mi6);
  });

  it('refuses forged, alg:none and missing tokens, and a suspended user', async () => {
    const real = await token('moneypenny@mi6.test');
    const [header, payload] = real.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload as string, 'base64url').toString()), sub: 'someone-else' })).toString('base64url')}.${real.split('.')[2]}`;
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    for (const bad of [forged, none, 'not-a-token']) {
      const { status, body } = await query(bad, '{ agents { codename } }');
      expect(status).toBe(401);
      expect(body.errors?.[0]?.errorType).toBe('UnauthorizedException');
    }
    expect((await query('', '{ agents { codename } }')).status).toBe(401);

    const user = await stack.cognition.users.require('moneypenny@mi6.test');
    await stack.cognition.suspendUser(user.id);
    try {
      const { body } = await query(real, '{ agents { codename } }');
      expect(body.data?.agents ?? null).toBeNull();
      expect(body.errors?.[0]?.errorType).toBe('Unauthorized');
    } finally {
      await stack.cognition.users.reactivate(user.id);
    }
  });

  it('serves the explorer page', async () => {
    const response = await fetch(`${stack.userPool.url}/explorer`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<html');
  });
});

function ciaLead(): string {
  return 'director@cia.test';
}
