import type { Resolvers } from '../../src/appsync/types.js';

/**
 * The resolvers of examples/agents/schema.graphql. Each is one statement that runs as the
 * calling user's database role, in their agency's schema: none of them holds an access rule.
 * Which agents a caller gets, whether they may read a real name, and which messages they see
 * are decided by the template's privileges and policies (template/0001_agents.sql).
 *
 * Column names are aliased to the GraphQL field names. `real_name` is deliberately not among
 * the agent columns: `Agent.realName` is its own resolver, which runs only when a query asks
 * for the field, so asking for it as an office administrator or an agent is refused by
 * Postgres ("permission denied for table agents") while the other fields resolve normally.
 */

/** The agent columns every member of the agency may read (all but real_name). */
const AGENT = `id, codename, office_id as "officeId", user_id as "userId", status, clearance, created_at as "createdAt"`;
const OFFICE = `id, name, city, created_at as "createdAt"`;
const MISSION = `id, agent_id as "agentId", codename, objective, status, created_at as "createdAt"`;
const MESSAGE = `id, sender_id as "senderId", recipient_id as "recipientId", body, created_at as "createdAt"`;

export const resolvers: Resolvers = {
  // The caller's own row: tenant users may read only their own row of cognition.users anyway.
  'Query.me': {
    sql: `select id, email, role, given_name as "givenName", family_name as "familyName"
          from cognition.users where id = cognition.my_user_id()`,
    returns: 'one',
  },
  'Me.agent': {
    sql: `select ${AGENT} from agents where user_id = $1`,
    params: ['source.id'],
    returns: 'one',
  },

  'Query.offices': { sql: `select ${OFFICE} from offices order by name` },
  'Office.agents': {
    sql: `select ${AGENT} from agents where office_id = $1 order by codename`,
    params: ['source.id'],
  },

  'Query.agents': { sql: `select ${AGENT} from agents order by codename` },
  'Query.agent': {
    sql: `select ${AGENT} from agents where id = $1`,
    params: ['arguments.id'],
    returns: 'one',
  },
  'Agent.office': {
    sql: `select ${OFFICE} from offices where id = $1`,
    params: ['source.officeId'],
    returns: 'one',
  },
  // Runs as the caller: only the lead holds SELECT on agents.real_name.
  'Agent.realName': {
    sql: `select real_name as "realName" from agents where id = $1`,
    params: ['source.id'],
    returns: 'scalar',
  },
  'Agent.missions': {
    sql: `select ${MISSION} from missions where agent_id = $1 order by created_at, id`,
    params: ['source.id'],
  },
  'Mission.agent': {
    sql: `select ${AGENT} from agents where id = $1`,
    params: ['source.agentId'],
    returns: 'one',
  },

  'Query.messages': {
    sql: `select ${MESSAGE} from messages order by created_at desc, id desc limit 200`,
  },

  // Authorizes each onMessage event for each subscriber: the published message (the source) is
  // read again as the subscriber, so only its sender and recipient get it (messages_read policy).
  // The recipient condition keeps another agency's message with the same id out.
  'Subscription.onMessage': {
    sql: `select ${MESSAGE} from messages where id = $1 and recipient_id = $2`,
    params: ['source.id', 'arguments.recipientId'],
    returns: 'one',
  },

  'Mutation.sendMessage': {
    sql: `insert into messages (recipient_id, body) values ($1, $2) returning ${MESSAGE}`,
    params: ['arguments.recipientId', 'arguments.body'],
    returns: 'one',
  },
  'Mutation.createAgent': {
    sql: `insert into agents (codename, real_name, office_id, user_id, clearance)
          values ($1, $2, $3, $4, coalesce($5, 1)) returning ${AGENT}`,
    params: [
      'arguments.codename',
      'arguments.realName',
      'arguments.officeId',
      'arguments.userId',
      'arguments.clearance',
    ],
    returns: 'one',
  },
  // Null when the caller may not change that agent (not the lead, not its office's administrator).
  'Mutation.setAgentStatus': {
    sql: `update agents set status = $2 where id = $1 returning ${AGENT}`,
    params: ['arguments.id', 'arguments.status'],
    returns: 'one',
  },
  'Mutation.createMission': {
    sql: `insert into missions (agent_id, codename, objective) values ($1, $2, coalesce($3, ''))
          returning ${MISSION}`,
    params: ['arguments.agentId', 'arguments.codename', 'arguments.objective'],
    returns: 'one',
  },
};
