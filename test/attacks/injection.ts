import { agentId, BOND, KERIM, M, MONEYPENNY, officeId, onlyValues } from './agents-data.js';
import {
  CLEAN_ERROR_TYPES,
  type Attack,
  type Outcome,
  type RowChange,
  type Target,
  type TargetName,
  type Verdict,
} from './harness.js';

/**
 * SQL injection through every text argument of the agents example (and, in patterns.ts, of the
 * patterns example), as a user who may legitimately call the mutation: every value is a bound
 * parameter, so each payload must either be refused cleanly (BadRequest, ConstraintViolation) or
 * come back, and be stored, byte for byte as sent, and nothing else may change. The rows the
 * requests legitimately created are the only trace allowed, and are removed afterwards.
 */

export const PAYLOADS: readonly string[] = [
  "'; drop table agents; --",
  "' or '1'='1",
  "') or ('1'='1",
  '$$; drop table messages; $$',
  "x'); update agents set clearance = 5 where ('1'='1",
  "'||(select string_agg(real_name, ',') from agents)||'",
  "\\'; select pg_sleep(2); --",
  '%I %L %s $1 $2 :name ?',
  '"; set role postgres; --',
  '\u202eevil\u200b 🕵️ 中文 Ω \ud83d\ude00',
  'a'.repeat(70),
  'é'.repeat(40),
  '\\x00\\\\ \b\f\t\r\n',
];

/** NUL cannot be stored in Postgres text: it must be refused cleanly (see the NUL attack). */
export const NUL_PAYLOADS: readonly string[] = ['x\u0000y', '\u0000', "'\u0000; drop table agents; --"];

export interface TextArgument {
  target?: TargetName;
  /** `Type.field(argument)`. */
  name: string;
  /** The caller, one allowed to call the mutation. */
  as: string;
  mutation: string;
  variables(t: Target, payload: string, index: number): Promise<Record<string, unknown>>;
  /** Where the payload comes back in the answer: `data[field][property]`. */
  field: string;
  property: string;
  /** Where it is stored: `table.column` (rows whose column holds a payload are the allowed trace). */
  table: string;
  column: string;
}

export const AGENTS_TEXT_ARGUMENTS: TextArgument[] = [
  {
    name: 'Mutation.sendMessage(body)',
    as: BOND,
    mutation: 'mutation ($to: ID!, $p: String!) { sendMessage(recipientId: $to, body: $p) { id body } }',
    variables: async (t, p) => ({ to: (await t.user(MONEYPENNY)).id, p }),
    field: 'sendMessage',
    property: 'body',
    table: 'tenant_mi6.messages',
    column: 'body',
  },
  {
    name: 'Mutation.createAgent(codename)',
    as: M,
    mutation:
      'mutation ($p: String!, $o: ID!) { createAgent(codename: $p, realName: "Injected", officeId: $o) { id codename } }',
    variables: async (t, p) => ({ p, o: await officeId(t, 'tenant_mi6', 'London') }),
    field: 'createAgent',
    property: 'codename',
    table: 'tenant_mi6.agents',
    column: 'codename',
  },
  {
    name: 'Mutation.createAgent(realName)',
    as: M,
    mutation:
      'mutation ($p: String!, $c: String!, $o: ID!) { createAgent(codename: $c, realName: $p, officeId: $o) { id realName } }',
    variables: async (t, p, i) => ({ p, c: `INJ-${i}`, o: await officeId(t, 'tenant_mi6', 'London') }),
    field: 'createAgent',
    property: 'realName',
    table: 'tenant_mi6.agents',
    column: 'real_name',
  },
  {
    name: 'Mutation.createMission(codename)',
    as: MONEYPENNY,
    mutation: 'mutation ($a: ID!, $p: String!) { createMission(agentId: $a, codename: $p) { id codename } }',
    variables: async (t, p) => ({ a: await agentId(t, 'tenant_mi6', '007'), p }),
    field: 'createMission',
    property: 'codename',
    table: 'tenant_mi6.missions',
    column: 'codename',
  },
  {
    name: 'Mutation.createMission(objective)',
    as: MONEYPENNY,
    mutation:
      'mutation ($a: ID!, $c: String!, $p: String) { createMission(agentId: $a, codename: $c, objective: $p) { id objective } }',
    variables: async (t, p, i) => ({ a: await agentId(t, 'tenant_mi6', '007'), c: `INJ-${i}`, p }),
    field: 'createMission',
    property: 'objective',
    table: 'tenant_mi6.missions',
    column: 'objective',
  },
];

/**
 * Denied when each answer is a clean refusal or returns the payload exactly as sent: a value that
 * came back changed, or an error that is not a clean refusal, means it was not treated as data.
 */
export function verbatim(field: string, property: string, payloads: readonly string[]) {
  return (outcome: Outcome): Verdict => {
    const outcomes = outcome.kind === 'many' ? outcome.outcomes : [outcome];
    const notes: string[] = [];
    for (const [i, o] of outcomes.entries()) {
      if (o.kind !== 'graphql' || typeof o.body !== 'object')
        return { denied: false, why: `unexpected ${JSON.stringify(o)}` };
      const errors = o.body.errors ?? [];
      const value = (o.body.data?.[field] as Record<string, unknown> | null | undefined)?.[property];
      if (errors.length > 0) {
        const unclean = errors.filter((e) => !CLEAN_ERROR_TYPES.has(e.errorType ?? ''));
        if (unclean.length > 0 || value != null) {
          return { denied: false, why: `payload ${JSON.stringify(payloads[i])}: ${JSON.stringify(errors)}` };
        }
        notes.push(errors.map((e) => e.errorType).join('+'));
      } else if (value !== payloads[i]) {
        return {
          denied: false,
          why: `payload ${JSON.stringify(payloads[i])} came back as ${JSON.stringify(value)}`,
        };
      } else {
        notes.push('verbatim');
      }
    }
    return { denied: true, why: notes.join(', ') };
  };
}

/** Rows of `table` whose `column` holds one of the payloads: the requests' legitimate effect. */
export function payloadRows(table: string, column: string, payloads: readonly string[]) {
  return (c: RowChange): boolean => {
    if (c.key !== table || c.change !== 'added') return false;
    const value = (JSON.parse(c.row) as Record<string, unknown>)[column];
    return typeof value === 'string' && payloads.includes(value);
  };
}

export function injection(
  arg: TextArgument,
  payloads: readonly string[],
  label: string,
  knownIssue?: string,
): Attack {
  return {
    name: `${label} through ${arg.name}`,
    category: 'injection',
    target: arg.target ?? 'agents',
    ...(knownIssue ? { knownIssue } : {}),
    async run(t) {
      const authorization = (await t.tokens(arg.as)).id;
      const outcomes: Outcome[] = [];
      for (const [i, payload] of payloads.entries()) {
        outcomes.push(
          await t.graphql(arg.mutation, { authorization, variables: await arg.variables(t, payload, i) }),
        );
      }
      return { kind: 'many', outcomes };
    },
    judge: verbatim(arg.field, arg.property, payloads),
    expectedChange: payloadRows(arg.table, arg.column, payloads),
    async cleanup(t) {
      // A NUL cannot even be a parameter of the referee's query; no row can hold one anyway.
      const storable = payloads.filter((p) => !p.includes('\u0000'));
      await t.admin.query(`delete from ${arg.table} where ${arg.column} = any($1)`, [storable]);
    },
  };
}

export const injectionAttacks: Attack[] = [
  ...AGENTS_TEXT_ARGUMENTS.map((arg) =>
    injection(arg, PAYLOADS, 'SQL injection, unicode and 63+ byte payloads'),
  ),
  {
    name: 'SQL injection through every ID argument (agent, setAgentStatus, createMission, sendMessage)',
    category: 'injection',
    target: 'agents',
    judge: onlyValues('codename', ['006']),
    async run(t) {
      const authorization = (await t.tokens(KERIM)).id;
      const outcomes: Outcome[] = [];
      const ids = [
        '1 or 1=1',
        "1' or '1'='1",
        '1; drop table agents',
        '1)) or ((1=1',
        '-1 union select 1',
        '1e400',
        '0x1',
      ];
      for (const id of ids) {
        outcomes.push(
          await t.graphql('query ($id: ID!) { agent(id: $id) { codename } }', {
            authorization,
            variables: { id },
          }),
        );
        outcomes.push(
          await t.graphql(
            'mutation ($id: ID!) { setAgentStatus(id: $id, status: COMPROMISED) { codename } }',
            {
              authorization,
              variables: { id },
            },
          ),
        );
        outcomes.push(
          await t.graphql('mutation ($id: ID!) { createMission(agentId: $id, codename: "X") { codename } }', {
            authorization,
            variables: { id },
          }),
        );
        outcomes.push(
          await t.graphql('mutation ($id: ID!) { sendMessage(recipientId: $id, body: "x") { id } }', {
            authorization,
            variables: { id },
          }),
        );
      }
      return { kind: 'many', outcomes };
    },
  },
  injection(AGENTS_TEXT_ARGUMENTS[0] as TextArgument, NUL_PAYLOADS, 'NUL bytes'),
];
