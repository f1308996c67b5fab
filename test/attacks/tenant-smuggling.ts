import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT } from 'jose';
import {
  agentId,
  AGENTS_QUERY,
  BOND,
  BOURNE,
  CIA_CODENAMES,
  CIA_LOOT,
  DIRECTOR,
  KERIM,
  LANDY,
  M,
  MI6,
  MI6_CODENAMES,
  MI6_LOOT,
  MONEYPENNY,
  officeId,
  onlyValues,
  REAL_NAMES,
  tenantId,
} from './agents-data.js';
import { many, overhear, type Attack, type Outcome, type Target } from './harness.js';

/**
 * The tenant of a request comes from the database role it runs as, never from the request. These
 * attacks name another tenant everywhere a client could: unknown arguments, variables, the
 * request's extensions, HTTP headers, the query string, ids of the other tenant's rows and users,
 * and the token's own tenant claims (re-signed with the pool's key, as a misconfigured token
 * hook would issue them). The MI6 users must still get MI6's rows only; the CIA director, CIA's.
 */

/** Every header and place a proxy or a careless resolver might read a tenant from. */
function tenantHeaders(id: string, slug: string): Record<string, string> {
  return {
    'x-tenant-id': id,
    'x-tenant': slug,
    'x-tenant-slug': slug,
    'x-amz-tenant-id': id,
    'x-amzn-tenant-id': id,
    'x-amz-user-agent': `tenant/${slug}`,
    'x-amzn-oidc-identity': id,
    'x-forwarded-host': `${slug}.example.com`,
    'x-cognition-tenant': slug,
    'x-hasura-tenant-id': id,
    tenant: slug,
    'tenant-id': id,
  };
}

const MI6_VIEW = [
  ...MI6_CODENAMES,
  ...MI6.offices.map((o) => o.name),
  ...MI6.missions.map((m) => m.codename),
];

export const tenantSmugglingAttacks: Attack[] = [
  {
    name: 'unknown tenant arguments on a query and a mutation',
    category: 'tenant smuggling',
    target: 'agents',
    secrets: () => CIA_LOOT,
    async run(t) {
      const authorization = (await t.tokens(M)).id;
      const cia = await tenantId(t, 'cia');
      return many(
        () => t.graphql(`{ agents(tenantId: "${cia}") { codename } }`, { authorization }),
        () =>
          t.graphql('{ agents(tenant: "cia") { codename } me(tenant_id: "cia") { email } }', {
            authorization,
          }),
        () =>
          t.graphql(`mutation { sendMessage(recipientId: "${cia}", body: "x", tenantId: "${cia}") { id } }`, {
            authorization,
          }),
      );
    },
  },
  {
    name: 'tenant in variables, declared or not, and in the request extensions',
    category: 'tenant smuggling',
    target: 'agents',
    secrets: () => CIA_LOOT,
    judge: onlyValues('codename', MI6_VIEW),
    async run(t) {
      const authorization = (await t.tokens(M)).id;
      const cia = await tenantId(t, 'cia');
      const smuggled = {
        tenantId: cia,
        tenant: 'cia',
        tenant_id: cia,
        tenantSlug: 'cia',
        schema: 'tenant_cia',
      };
      return many(
        // Undeclared variables: ignored by GraphQL; nothing may read them either.
        () => t.graphql('{ agents { codename office { name } } }', { authorization, variables: smuggled }),
        // Declared but unused: refused by validation.
        () =>
          t.graphql('query ($tenantId: ID) { agents { codename } }', {
            authorization,
            variables: smuggled,
          }),
        () =>
          t.graphql('', {
            authorization,
            rawBody: JSON.stringify({
              query: '{ agents { codename missions { codename } } }',
              variables: smuggled,
              extensions: { tenant: 'cia', tenantId: cia, claims: { tenant_slug: 'cia' } },
              operationName: null,
            }),
          }),
      );
    },
  },
  {
    name: 'tenant in HTTP headers and the query string (x-tenant-id, x-amz-*, …)',
    category: 'tenant smuggling',
    target: 'agents',
    secrets: () => CIA_LOOT,
    judge: onlyValues('codename', MI6_VIEW),
    async run(t) {
      const authorization = (await t.tokens(M)).id;
      const headers = tenantHeaders(await tenantId(t, 'cia'), 'cia');
      const response = await fetch(`${t.graphqlUrl}?tenant=cia&tenantId=${headers['x-tenant-id']}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization, ...headers },
        body: JSON.stringify({ query: AGENTS_QUERY }),
      });
      return many(
        () => t.graphql(AGENTS_QUERY, { authorization, headers }),
        async () => ({ kind: 'graphql', status: response.status, body: await response.json() }) as Outcome,
      );
    },
  },
  {
    name: "another tenant's real token, with this tenant named in headers and variables",
    category: 'tenant smuggling',
    target: 'agents',
    // The CIA director must see CIA's agents and nothing of MI6 (real names of MI6 included).
    secrets: () => MI6_LOOT,
    judge: onlyValues('codename', [...CIA_CODENAMES, ...CIA_LOOT]),
    async run(t) {
      const authorization = (await t.tokens(DIRECTOR)).id;
      const mi6 = await tenantId(t, 'mi6');
      return t.graphql(AGENTS_QUERY, {
        authorization,
        headers: tenantHeaders(mi6, 'mi6'),
        variables: { tenantId: mi6, tenant: 'mi6' },
      });
    },
  },
  {
    name: "forged tenant claims: an office administrator's token re-signed as admin of the other agency",
    category: 'tenant smuggling',
    target: 'agents',
    // Passes the endpoint's group check (cognito:groups admin); Postgres must still see Kerim of MI6.
    secrets: () => [...CIA_LOOT, ...REAL_NAMES],
    judge: onlyValues('codename', ['006', 'JANUS']),
    async run(t) {
      const token = (await t.tokens(KERIM)).id;
      const claims = decodeJwt(token);
      const cia = await t.stack.cognition.tenants.require('cia');
      const forged = await new SignJWT({
        ...claims,
        tenant_id: cia.id,
        tenant_slug: 'cia',
        tenant_role: 'admin',
        'cognito:groups': ['admin'],
        'custom:tenant': 'cia',
      })
        .setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(token).kid as string })
        .sign(await importJWK((await t.signingKeys()).id, 'RS256'));
      const office = await officeId(t, 'tenant_mi6', 'Station T');
      return many(
        () => t.graphql(AGENTS_QUERY, { authorization: forged }),
        () =>
          t.graphql(
            'mutation ($o: ID!) { createAgent(codename: "MOLE", realName: "Kim Philby", officeId: $o) { id codename } }',
            { authorization: forged, variables: { o: office } },
          ),
        () => t.graphql('{ me { email role } }', { authorization: forged }),
      );
    },
  },
  {
    name: "another agency's ids: its agent by id, its office for a new agent, its user as recipient and login",
    category: 'tenant smuggling',
    target: 'agents',
    secrets: () => CIA_LOOT,
    judge: onlyValues('codename', MI6_CODENAMES),
    async run(t) {
      const authorization = (await t.tokens(M)).id;
      const bourne = await t.user(BOURNE);
      const landy = await t.user(LANDY);
      // Ids are per schema: CIA's agent id names an MI6 agent or nothing for MI6's lead.
      const treadstone = await agentId(t, 'tenant_cia', 'TREADSTONE');
      const berlin = await officeId(t, 'tenant_cia', 'Berlin Station');
      return many(
        () => t.graphql(`{ agent(id: "${treadstone}") { codename } }`, { authorization }),
        () =>
          t.graphql(
            'mutation ($o: ID!, $u: ID) { createAgent(codename: "MOLE", realName: "Kim Philby", officeId: $o, userId: $u) { id } }',
            { authorization, variables: { o: berlin, u: bourne.id } },
          ),
        async () =>
          t.graphql('mutation ($to: ID!) { sendMessage(recipientId: $to, body: "Defect to us.") { id } }', {
            authorization: (await t.tokens(BOND)).id,
            variables: { to: landy.id },
          }),
      );
    },
    // createAgent's office id names an MI6 office with the same number, if any: the userId
    // (a CIA user) must still be refused, so nothing is created.
  },
  {
    name: "a subscription filter naming another agency's user receives none of their messages",
    category: 'tenant smuggling',
    target: 'agents',
    secrets: () => [MARKER],
    expectedChange: (c) => c.key === 'tenant_cia.messages' && c.change === 'added' && c.row.includes(MARKER),
    cleanup: (t) => t.admin.query('delete from tenant_cia.messages where body = $1', [MARKER]).then(() => {}),
    async run(t) {
      const landy = await t.user(LANDY);
      return eavesdrop(t, MONEYPENNY, landy.id, { from: BOURNE, to: LANDY, control: LANDY });
    },
  },
];

const MARKER = 'Treadstone is compromised. Come in at 0900.';
const SUBSCRIPTION =
  'subscription ($to: ID!) { onMessage(recipientId: $to) { id body senderId recipientId } }';

/**
 * `eavesdropper` subscribes to messages for `recipientId`; then `from` sends `to` the message
 * while `control` (who may read it) is subscribed too, proving the event was published.
 */
export async function eavesdrop(
  t: Target,
  eavesdropper: string,
  recipientId: string,
  message: { from: string; to: string; control: string; body?: string },
): Promise<Outcome> {
  const to = await t.user(message.to);
  return overhear(t, {
    spy: { email: eavesdropper, query: SUBSCRIPTION, variables: { to: recipientId } },
    control: { email: message.control, query: SUBSCRIPTION, variables: { to: to.id } },
    async trigger() {
      const sent = await t.graphql(
        'mutation ($to: ID!, $b: String!) { sendMessage(recipientId: $to, body: $b) { id } }',
        {
          authorization: (await t.tokens(message.from)).id,
          variables: { to: to.id, b: message.body ?? MARKER },
        },
      );
      if (typeof sent.body !== 'object' || sent.body.errors)
        throw new Error(`sending failed: ${JSON.stringify(sent.body)}`);
    },
  });
}
