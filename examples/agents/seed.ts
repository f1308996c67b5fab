import type { Cognition } from '../../src/cognition.js';
import { CognitionError } from '../../src/errors.js';
import type { User } from '../../src/users/users.js';
import type { TenantRole } from '../../src/users/validation.js';

/**
 * Demo data for the secret-agents example: two agencies (tenants `mi6` and `cia`), each with
 * a lead (tenant admin), two offices with one administrator each (tenant users), two agents
 * with a login and one without, missions and a few private messages.
 *
 * Tenants and users are created through the system services (that is what an operator or a
 * sign-up does). Every row of the agencies' own data is written by the person who would
 * write it, through `cognition.runAs`: the lead creates offices, appoints office
 * administrators and recruits agents; office administrators assign missions; people send
 * their own messages. So the seed passes the same privileges, policies, defaults and triggers
 * as the API does (a mission's `created_by`, a message's `sender_id`) and needs no
 * bypass. Each insert only adds a row that is missing, so a second run changes nothing (not
 * even a sequence).
 *
 * The template (examples/agents/template) must have been applied first.
 */

/** The Cognito password the local stack may give the seeded users (development only). */
export const AGENTS_DEMO_PASSWORD = 'Licence-To-Kill-0';

/** What `npm start` suggests trying first. */
export const tryQuery = '{ agents { codename realName } }';

export type AgencyTitle = 'lead' | 'office admin' | 'agent';

export interface SeededUser {
  id: string;
  email: string;
  role: TenantRole;
  tenant: string;
  title: AgencyTitle;
  /** For office admins, the office; for agents, their codename. */
  detail: string | null;
  /** True when this run invited and provisioned the user. */
  created: boolean;
}

export interface SeedResult {
  tenants: { slug: string; name: string; created: boolean }[];
  users: SeededUser[];
  /** Rows this run added to the agencies' tables (0 on a second run). */
  rowsInserted: number;
  /** See AGENTS_DEMO_PASSWORD. */
  password: string;
}

interface Person {
  email: string;
  givenName?: string;
  familyName?: string;
}

interface AgencySpec {
  slug: string;
  name: string;
  lead: Person;
  offices: { name: string; city: string; admin: Person }[];
  /** Agents' logins use their codename, not their real name: the email is no secret. */
  agents: { codename: string; realName: string; office: string; clearance: number; login?: string }[];
  /** Assigned by the administrator of the agent's office. */
  missions: { agent: string; codename: string; objective: string }[];
  messages: { from: string; to: string; body: string }[];
}

export const AGENCIES: readonly AgencySpec[] = [
  {
    slug: 'mi6',
    name: 'MI6',
    lead: { email: 'm@mi6.test', givenName: 'Olivia', familyName: 'Mansfield' },
    offices: [
      {
        name: 'London',
        city: 'London',
        admin: { email: 'moneypenny@mi6.test', givenName: 'Eve', familyName: 'Moneypenny' },
      },
      {
        name: 'Station T',
        city: 'Istanbul',
        admin: { email: 'kerim@mi6.test', givenName: 'Kerim', familyName: 'Bey' },
      },
    ],
    agents: [
      {
        codename: '007',
        realName: 'James Bond',
        office: 'London',
        clearance: 5,
        login: 'agent.007@mi6.test',
      },
      {
        codename: '006',
        realName: 'Alec Trevelyan',
        office: 'Station T',
        clearance: 4,
        login: 'agent.006@mi6.test',
      },
      { codename: '009', realName: 'Sam Thorne', office: 'London', clearance: 3 },
    ],
    missions: [
      { agent: '007', codename: 'GOLDENEYE', objective: 'Recover the satellite control key.' },
      { agent: '006', codename: 'JANUS', objective: 'Identify the arms dealer in Istanbul.' },
    ],
    messages: [
      { from: 'agent.007@mi6.test', to: 'moneypenny@mi6.test', body: 'Landed. Dinner on Friday?' },
      { from: 'moneypenny@mi6.test', to: 'agent.007@mi6.test', body: 'M wants you in her office. Now.' },
      { from: 'm@mi6.test', to: 'kerim@mi6.test', body: 'Keep an eye on 006.' },
    ],
  },
  {
    slug: 'cia',
    name: 'CIA',
    lead: { email: 'director@cia.test', givenName: 'Alexander', familyName: 'Conklin' },
    offices: [
      {
        name: 'Langley',
        city: 'Langley',
        admin: { email: 'abbott@cia.test', givenName: 'Ward', familyName: 'Abbott' },
      },
      {
        name: 'Berlin Station',
        city: 'Berlin',
        admin: { email: 'landy@cia.test', givenName: 'Pamela', familyName: 'Landy' },
      },
    ],
    agents: [
      {
        codename: 'CARDINAL',
        realName: 'Felix Leiter',
        office: 'Langley',
        clearance: 4,
        login: 'agent.cardinal@cia.test',
      },
      {
        codename: 'TREADSTONE',
        realName: 'Jason Bourne',
        office: 'Berlin Station',
        clearance: 5,
        login: 'agent.treadstone@cia.test',
      },
      { codename: 'RAVEN', realName: 'Nicky Parsons', office: 'Berlin Station', clearance: 2 },
    ],
    missions: [
      { agent: 'TREADSTONE', codename: 'BLACKBRIAR', objective: 'Find out who you are.' },
      { agent: 'CARDINAL', codename: 'CASINO', objective: 'Back up the British agent at the tables.' },
    ],
    messages: [
      { from: 'landy@cia.test', to: 'agent.treadstone@cia.test', body: 'Come in. We can talk.' },
      {
        from: 'agent.treadstone@cia.test',
        to: 'landy@cia.test',
        body: 'Get some rest, Pam. You look tired.',
      },
    ],
  },
];

export async function seedAgents(cognition: Cognition): Promise<SeedResult> {
  const result: SeedResult = { tenants: [], users: [], rowsInserted: 0, password: AGENTS_DEMO_PASSWORD };
  for (const agency of AGENCIES) {
    const existing = await cognition.tenants.get(agency.slug);
    const tenant = existing ?? (await cognition.tenants.create({ slug: agency.slug, name: agency.name }));
    result.tenants.push({ slug: tenant.slug, name: tenant.name, created: !existing });
    const { rows } = await cognition.pool.query<{ ok: boolean }>(
      'select to_regclass(quote_ident($1) || $2) is not null as ok',
      [tenant.schemaName, '.agents'],
    );
    if (!rows[0]?.ok) {
      throw new CognitionError(
        'ERR_CONFIG',
        `tenant ${tenant.slug} has no agents table: apply examples/agents/template first`,
      );
    }

    const people = new Map<string, User>();
    const ensure = async (person: Person, role: TenantRole, title: AgencyTitle, detail: string | null) => {
      const { user, created } = await ensureUser(cognition, agency.slug, person, role);
      people.set(person.email, user);
      result.users.push({
        id: user.id,
        email: user.email,
        role,
        tenant: agency.slug,
        title,
        detail,
        created,
      });
      return user;
    };
    const lead = await ensure(agency.lead, 'admin', 'lead', null);
    for (const office of agency.offices) await ensure(office.admin, 'user', 'office admin', office.name);
    for (const agent of agency.agents) {
      if (agent.login) await ensure({ email: agent.login }, 'user', 'agent', agent.codename);
    }
    const person = (email: string): User => {
      const user = people.get(email);
      if (!user) throw new CognitionError('ERR_CONFIG', `seed data names unknown person ${email}`);
      return user;
    };
    const insert = async (as: User, sql: string, params: unknown[]) => {
      result.rowsInserted += (await cognition.runAs(as, sql, params)).rowCount ?? 0;
    };

    // The lead builds the agency.
    for (const office of agency.offices) {
      await insert(
        lead,
        `insert into offices (name, city) select $1::text, $2::text
         where not exists (select from offices where name = $1::text)`,
        [office.name, office.city],
      );
      await insert(
        lead,
        `insert into office_admins (office_id, user_id) select o.id, $2::uuid from offices o
         where o.name = $1::text
           and not exists (select from office_admins oa where oa.office_id = o.id and oa.user_id = $2::uuid)`,
        [office.name, person(office.admin.email).id],
      );
    }
    for (const agent of agency.agents) {
      await insert(
        lead,
        `insert into agents (codename, real_name, office_id, user_id, clearance)
         select $1::text, $2::text, o.id, $4::uuid, $5::smallint from offices o
         where o.name = $3::text and not exists (select from agents where codename = $1::text)`,
        [
          agent.codename,
          agent.realName,
          agent.office,
          agent.login ? person(agent.login).id : null,
          agent.clearance,
        ],
      );
    }
    // Office administrators assign missions to their own agents (RLS would refuse others).
    for (const mission of agency.missions) {
      const agent = agency.agents.find((a) => a.codename === mission.agent);
      const office = agency.offices.find((o) => o.name === agent?.office);
      if (!office) throw new CognitionError('ERR_CONFIG', `seed mission ${mission.codename} has no office`);
      await insert(
        person(office.admin.email),
        `insert into missions (agent_id, codename, objective) select a.id, $2::text, $3::text from agents a
         where a.codename = $1::text and not exists (select from missions where codename = $2::text)`,
        [mission.agent, mission.codename, mission.objective],
      );
    }
    // People send their own messages: sender_id is the default, cognition.my_user_id().
    for (const message of agency.messages) {
      await insert(
        person(message.from),
        `insert into messages (recipient_id, body) select $1::uuid, $2::text
         where not exists (select from messages m
           where m.sender_id = cognition.my_user_id() and m.recipient_id = $1::uuid and m.body = $2::text)`,
        [person(message.to).id, message.body],
      );
    }
  }
  return result;
}

/** Invites and provisions the user unless that was done before; refuses one that is not usable. */
async function ensureUser(
  cognition: Cognition,
  tenant: string,
  person: Person,
  role: TenantRole,
): Promise<{ user: User; created: boolean }> {
  let user = await cognition.users.find({ email: person.email });
  let created = false;
  if (!user) {
    user = await cognition.users.invite({
      email: person.email,
      tenant,
      role,
      givenName: person.givenName ?? null,
      familyName: person.familyName ?? null,
    });
    created = true;
  }
  if (user.tenantSlug !== tenant || user.role !== role) {
    throw new CognitionError(
      'ERR_USER_EXISTS',
      `${person.email} already exists as ${user.role} of ${user.tenantSlug ?? 'no tenant'}; the seed expects ${role} of ${tenant}`,
    );
  }
  if (user.status === 'invited') {
    user = (await cognition.users.provision(user.id)).user;
    created = true;
  }
  if (user.status !== 'active') {
    throw new CognitionError(
      'ERR_USER_INACTIVE',
      `${person.email} is ${user.status}; the seed needs it active`,
    );
  }
  return { user, created };
}

/** The local stack's entry point (src/local/app.ts): the seed and the password for the users' logins. */
export async function seed(cognition: Cognition): Promise<SeedResult> {
  return seedAgents(cognition);
}
