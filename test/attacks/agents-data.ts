import { AGENCIES } from '../../examples/agents/seed.js';

/** The parts of an agency of the seed that the attacks read. */
export interface Agency {
  slug: string;
  offices: readonly { name: string }[];
  agents: readonly { codename: string; realName: string }[];
  missions: readonly { codename: string }[];
  messages: readonly { from: string; to: string; body: string }[];
}
import { judgeOutcome, type Outcome, type Target, type Verdict } from './harness.js';

/**
 * Who is who in the seeded agents example (examples/agents/seed.ts), and what each of them must
 * never see: the attacks name their attacker and their loot from here.
 */

// MI6
export const M = 'm@mi6.test'; // the lead (tenant admin)
export const MONEYPENNY = 'moneypenny@mi6.test'; // administrator of London
export const KERIM = 'kerim@mi6.test'; // administrator of Station T
export const BOND = 'agent.007@mi6.test'; // agent, London
export const TREVELYAN = 'agent.006@mi6.test'; // agent, Station T
// CIA
export const DIRECTOR = 'director@cia.test';
export const LANDY = 'landy@cia.test'; // administrator of Berlin Station
export const BOURNE = 'agent.treadstone@cia.test';

const agency = (slug: string): Agency => {
  const found = AGENCIES.find((a) => a.slug === slug);
  if (!found) throw new Error(`the agents seed has no agency ${slug}`);
  return found;
};
export const MI6 = agency('mi6');
export const CIA = agency('cia');

/** Every real name: only an agency's lead may read those of its own agents. */
export const REAL_NAMES = [...MI6.agents, ...CIA.agents].map((a) => a.realName);
export const CIA_CODENAMES = CIA.agents.map((a) => a.codename);
export const MI6_CODENAMES = MI6.agents.map((a) => a.codename);
export const CIA_LOOT = [
  ...CIA_CODENAMES,
  ...CIA.agents.map((a) => a.realName),
  ...CIA.missions.map((m) => m.codename),
  ...CIA.offices.map((o) => o.name),
  ...CIA.messages.map((m) => m.body),
];
export const MI6_LOOT = [
  ...MI6.agents.map((a) => a.realName),
  ...MI6.missions.map((m) => m.codename),
  ...MI6.offices.map((o) => o.name),
  ...MI6.messages.map((m) => m.body),
];
/** The message bodies between two people, as the seed sends them. */
export const messagesBetween = (a: string, b: string): string[] =>
  [...MI6.messages, ...CIA.messages]
    .filter((m) => (m.from === a && m.to === b) || (m.from === b && m.to === a))
    .map((m) => m.body);

export const AGENTS_QUERY = '{ agents { codename realName office { name } missions { codename } } }';

/** An agent's row id in a tenant, read by the referee. */
export async function agentId(
  t: Target,
  schema: 'tenant_mi6' | 'tenant_cia',
  codename: string,
): Promise<string> {
  const { rows } = await t.admin.query<{ id: string }>(
    `select id::text from ${schema}.agents where codename = $1`,
    [codename],
  );
  if (!rows[0]) throw new Error(`no agent ${codename} in ${schema}`);
  return rows[0].id;
}

export async function officeId(
  t: Target,
  schema: 'tenant_mi6' | 'tenant_cia',
  name: string,
): Promise<string> {
  const { rows } = await t.admin.query<{ id: string }>(
    `select id::text from ${schema}.offices where name = $1`,
    [name],
  );
  if (!rows[0]) throw new Error(`no office ${name} in ${schema}`);
  return rows[0].id;
}

export async function tenantId(t: Target, slug: string): Promise<string> {
  return (await t.stack.cognition.tenants.require(slug)).id;
}

/** Every value of the named property anywhere in what the attacker got. */
export function valuesOf(outcome: Outcome, property: string): unknown[] {
  const found: unknown[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, member] of Object.entries(value)) {
        if (key === property) found.push(member);
        walk(member);
      }
    }
  };
  walk(outcome);
  return found;
}

/**
 * Denied unless the attacker got a value of `property` outside `allowed` (what they may see
 * anyway): for attacks whose request legitimately returns the attacker's own rows.
 */
export function onlyValues(property: string, allowed: readonly unknown[]) {
  return (outcome: Outcome): Verdict => {
    // Still only clean refusals for whatever the request was not allowed to do.
    const generic = judgeOutcome(outcome, true);
    if (!generic.denied) return generic;
    const extra = valuesOf(outcome, property).filter((v) => v !== null && !allowed.includes(v));
    return extra.length === 0
      ? { denied: true, why: `only allowed ${property}s (${JSON.stringify(valuesOf(outcome, property))})` }
      : { denied: false, why: `got ${property} ${JSON.stringify(extra)}` };
  };
}
