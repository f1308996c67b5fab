import {
  agentId,
  AGENTS_QUERY,
  BOND,
  KERIM,
  M,
  MI6,
  messagesBetween,
  MONEYPENNY,
  officeId,
  onlyValues,
  REAL_NAMES,
  TREVELYAN,
} from './agents-data.js';
import { judgeOutcome, many, type Attack } from './harness.js';
import { eavesdrop } from './tenant-smuggling.js';

/**
 * Every access rule of the agents example, attacked by the wrong user, group and rank of the same
 * agency, over GraphQL with real tokens and, where GraphQL offers no way in, over SQL as the
 * attacker's own database user (bypassing whatever the API layer checks).
 *
 * Who is who: M is the lead (tenant admin); Moneypenny administers London (agents 007, 009),
 * Kerim Station T (006); Bond is agent 007, Trevelyan 006.
 */

const realName = (codename: string) => MI6.agents.find((a) => a.codename === codename)?.realName as string;

export const useCaseAttacks: Attack[] = [
  {
    name: "attribute level: an office administrator asks for their own agent's real name",
    category: 'use cases',
    target: 'agents',
    mayReturnData: true,
    secrets: () => REAL_NAMES,
    run: async (t) => t.graphql(AGENTS_QUERY, { authorization: (await t.tokens(KERIM)).id }),
  },
  {
    name: 'attribute level: an agent asks for their own real name, over GraphQL and SQL',
    category: 'use cases',
    target: 'agents',
    mayReturnData: true,
    secrets: () => REAL_NAMES,
    run: (t) =>
      many(
        async () =>
          t.graphql('{ me { agent { codename realName } } }', { authorization: (await t.tokens(BOND)).id }),
        () => t.sql(BOND, 'select real_name from agents'),
      ),
  },
  {
    name: 'attribute level: probing a real name through a WHERE clause, ORDER BY and a row comparison',
    category: 'use cases',
    target: 'agents',
    run: (t) =>
      many(
        () => t.sql(KERIM, "select codename from agents where real_name like 'A%'"),
        () => t.sql(KERIM, 'select codename from agents order by real_name'),
        () => t.sql(KERIM, 'select codename from agents a where a = a and length(a::text) > 0'),
        () => t.sql(KERIM, 'select to_jsonb(a) from agents a'),
      ),
  },
  {
    name: "item level: an office administrator reads another office's agent by id and through its office",
    category: 'use cases',
    target: 'agents',
    secrets: () => [realName('006'), 'JANUS'],
    judge: onlyValues('codename', ['007', '009', 'GOLDENEYE']),
    async run(t) {
      const authorization = (await t.tokens(MONEYPENNY)).id;
      const id = await agentId(t, 'tenant_mi6', '006');
      return many(
        () => t.graphql(`{ agent(id: "${id}") { codename missions { codename } } }`, { authorization }),
        () => t.graphql('{ offices { name agents { codename missions { codename } } } }', { authorization }),
        () => t.sql(MONEYPENNY, 'select codename from agents where id = $1', [id]),
      );
    },
  },
  {
    name: 'item level: an agent reads the other agents and their missions',
    category: 'use cases',
    target: 'agents',
    judge: onlyValues('codename', ['007', 'GOLDENEYE']),
    async run(t) {
      const authorization = (await t.tokens(BOND)).id;
      return many(
        () =>
          t.graphql('{ agents { codename missions { codename } } offices { agents { codename } } }', {
            authorization,
          }),
        () => t.sql(BOND, 'select m.codename from missions m'),
        () => t.sql(BOND, "select codename from agents where codename <> '007'"),
      );
    },
  },
  {
    name: 'private messages: an agent, and the lead, read messages between other people',
    category: 'use cases',
    target: 'agents',
    run: (t) =>
      many(
        // Trevelyan is the subject of M's message to Kerim, not a party to it.
        async () => t.graphql('{ messages { body } }', { authorization: (await t.tokens(TREVELYAN)).id }),
        async () => t.sql(TREVELYAN, 'select body from messages'),
        async () => ({
          ...(await t.graphql('{ messages { body } }', { authorization: (await t.tokens(M)).id })),
        }),
      ),
    // The lead's own message to Kerim is theirs to read: only Bond and Moneypenny's are loot for M.
    judge: async (outcome) => {
      const text = JSON.stringify(outcome);
      const forTrevelyan = [...messagesBetween(M, KERIM), ...messagesBetween(BOND, MONEYPENNY)];
      const outcomes = outcome.kind === 'many' ? outcome.outcomes : [];
      const trevelyan = JSON.stringify(outcomes.slice(0, 2));
      const lead = JSON.stringify(outcomes.slice(2));
      const leaked = [
        ...forTrevelyan.filter((b) => trevelyan.includes(b)),
        ...messagesBetween(BOND, MONEYPENNY).filter((b) => lead.includes(b)),
      ];
      return leaked.length === 0
        ? { denied: true, why: `no message of others (${text.length} bytes)` }
        : { denied: false, why: `read ${JSON.stringify(leaked)}` };
    },
  },
  {
    name: "private messages: someone else's subscription (same agency, wrong user)",
    category: 'use cases',
    target: 'agents',
    secrets: () => ['Meet me at the casino.'],
    expectedChange: (c) =>
      c.key === 'tenant_mi6.messages' && c.change === 'added' && c.row.includes('Meet me at the casino.'),
    cleanup: (t) =>
      t.admin.query(`delete from tenant_mi6.messages where body = 'Meet me at the casino.'`).then(() => {}),
    async run(t) {
      // Kerim listens for messages to Moneypenny; Bond writes to her, and she (the control) gets it.
      const moneypenny = await t.user(MONEYPENNY);
      return eavesdrop(t, KERIM, moneypenny.id, {
        from: BOND,
        to: MONEYPENNY,
        control: MONEYPENNY,
        body: 'Meet me at the casino.',
      });
    },
  },
  {
    name: "private messages: forging the sender, editing and deleting others' messages (SQL)",
    category: 'use cases',
    target: 'agents',
    async run(t) {
      const m = await t.user(M);
      const moneypenny = await t.user(MONEYPENNY);
      return many(
        () =>
          t.sql(BOND, 'insert into messages (sender_id, recipient_id, body) values ($1, $2, $3)', [
            m.id,
            moneypenny.id,
            'Bond, you are promoted. M.',
          ]),
        () => t.sql(M, "update messages set body = 'edited'"),
        () => t.sql(M, 'delete from messages'),
        () => t.sql(MONEYPENNY, "update messages set recipient_id = sender_id where body like 'Landed%'"),
      );
    },
  },
  {
    name: 'group rule: an office administrator recruits an agent (GraphQL group check, then SQL past it)',
    category: 'use cases',
    target: 'agents',
    async run(t) {
      const london = await officeId(t, 'tenant_mi6', 'London');
      return many(
        async () =>
          t.graphql(
            'mutation ($o: ID!) { createAgent(codename: "004", realName: "Frederick Gray", officeId: $o) { id } }',
            {
              authorization: (await t.tokens(MONEYPENNY)).id,
              variables: { o: london },
            },
          ),
        () =>
          t.sql(
            MONEYPENNY,
            "insert into agents (codename, real_name, office_id) values ('004', 'Frederick Gray', $1)",
            [london],
          ),
      );
    },
  },
  {
    name: "rank and office: status changes of another office's agent, and of one's own record as an agent",
    category: 'use cases',
    target: 'agents',
    async run(t) {
      const bond = await agentId(t, 'tenant_mi6', '007');
      const m = 'mutation ($id: ID!) { setAgentStatus(id: $id, status: COMPROMISED) { codename status } }';
      return many(
        async () => t.graphql(m, { authorization: (await t.tokens(KERIM)).id, variables: { id: bond } }),
        async () => t.graphql(m, { authorization: (await t.tokens(BOND)).id, variables: { id: bond } }),
        // Kerim may change 006 (his office's): every other agent is out of his reach.
        () => t.sql(KERIM, "update agents set status = 'INACTIVE' where codename <> '006'"),
      );
    },
  },
  {
    name: 'missions: an office administrator and an agent assign missions they may not',
    category: 'use cases',
    target: 'agents',
    async run(t) {
      const bond = await agentId(t, 'tenant_mi6', '007');
      const m = 'mutation ($a: ID!, $c: String!) { createMission(agentId: $a, codename: $c) { id } }';
      return many(
        async () =>
          t.graphql(m, {
            authorization: (await t.tokens(KERIM)).id,
            variables: { a: bond, c: 'THUNDERBALL' },
          }),
        async () =>
          t.graphql(m, { authorization: (await t.tokens(BOND)).id, variables: { a: bond, c: 'MOONRAKER' } }),
        // Past RLS's created_by check by naming the lead as the creator.
        async () =>
          t.sql(
            MONEYPENNY,
            "insert into missions (agent_id, codename, created_by) values ($1, 'OCTOPUSSY', $2)",
            [bond, (await t.user(M)).id],
          ),
        () => t.sql(BOND, "update missions set objective = 'Retire to Jamaica.'"),
      );
    },
  },
  {
    name: "existence oracle: an office administrator probes another office's mission codename through the unique constraint",
    category: 'use cases',
    target: 'agents',
    knownIssue:
      "missions.codename is unique across the agency, so creating a mission named like one the caller cannot see fails with 'missions_codename_key violated': it tells that the hidden mission exists (RLS does not hide unique-constraint conflicts; the example could scope the uniqueness to the agent)",
    async run(t) {
      // JANUS belongs to 006 of Station T, which Moneypenny cannot see; 007 is hers.
      return t.graphql('mutation ($a: ID!) { createMission(agentId: $a, codename: "JANUS") { id } }', {
        authorization: (await t.tokens(MONEYPENNY)).id,
        variables: { a: await agentId(t, 'tenant_mi6', '007') },
      });
    },
    judge: (outcome) =>
      JSON.stringify(outcome).includes('missions_codename_key')
        ? { denied: false, why: 'the refusal names the unique constraint: a hidden mission JANUS exists' }
        : judgeOutcome(outcome, false),
  },
  {
    name: 'offices: an office administrator appoints themself to another office, moves an agent, reorganises offices (SQL)',
    category: 'use cases',
    target: 'agents',
    async run(t) {
      const stationT = await officeId(t, 'tenant_mi6', 'Station T');
      const london = await officeId(t, 'tenant_mi6', 'London');
      const moneypenny = await t.user(MONEYPENNY);
      return many(
        () =>
          t.sql(MONEYPENNY, 'insert into office_admins (office_id, user_id) values ($1, $2)', [
            stationT,
            moneypenny.id,
          ]),
        () => t.sql(KERIM, "update agents set office_id = $1 where codename = '007'", [stationT]),
        () => t.sql(KERIM, 'update agents set office_id = $1', [london]),
        () => t.sql(KERIM, "insert into offices (name, city) values ('Station K', 'Kabul')"),
        () => t.sql(KERIM, 'delete from office_admins'),
      );
    },
  },
  {
    name: 'statistics: planner statistics of the rows and columns the caller may not read (pg_stats)',
    category: 'use cases',
    target: 'agents',
    secrets: () => [...REAL_NAMES, 'JANUS'],
    async setup(t) {
      // Statistics exist once the tables are analysed (autovacuum would do it in time).
      await t.admin.query(
        'analyze tenant_mi6.agents, tenant_mi6.missions, tenant_mi6.messages, tenant_cia.agents',
      );
    },
    run: (t) =>
      many(
        () => t.sql(KERIM, "select * from pg_stats where tablename in ('agents', 'missions', 'messages')"),
        () =>
          t.sql(KERIM, "select * from pg_stats_ext where tablename in ('agents', 'missions', 'messages')"),
        () => t.sql(KERIM, 'select * from pg_statistic'),
      ),
  },
];
