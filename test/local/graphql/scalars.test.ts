import { parseConstValue } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResolverEvent } from '../../../src/appsync/types.js';
import { awsScalar, type AwsScalarName } from '../../../src/local/graphql/scalars.js';
import { API_KEY, FakeDataSource, startTestApi, type TestApi } from './support.js';

// AWS scalars: parse (variables), parse literals, serialize; invalid input is a GraphQL
// validation error and nothing is invoked.

const CASES: Record<AwsScalarName, { valid: unknown[]; invalid: unknown[] }> = {
  AWSDate: {
    valid: [
      '1970-01-01',
      '2024-02-29',
      '1970-01-01Z',
      '1970-01-01-07:00',
      '1970-01-01+05:30',
      '1970-01-01+05:30:15',
      '-2017-05-01',
    ],
    invalid: [
      '2023-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-04-31',
      '24-01-01',
      '2024-1-1',
      '2024-01-01T00:00Z',
      '2024-01-01+0530',
      '2024-01-01+05',
      '2024-01-01+24:00',
      'today',
      '',
      20240101,
    ],
  },
  AWSTime: {
    valid: [
      '12:30',
      '12:30Z',
      '12:30:24-07:00',
      '12:30:24.500+05:30',
      '00:00:00',
      '23:59:59.123456789',
      '12:30:24.5Z',
    ],
    invalid: [
      '24:00',
      '12:60',
      '12:30:60',
      '12:30:24.',
      '12:30:24.1234567890',
      '12:30.5',
      '1230',
      '12:30+0530',
      'noon',
      1230,
    ],
  },
  AWSDateTime: {
    valid: [
      '1970-01-01T12:00:00.000Z',
      '2024-02-29T23:59:59Z',
      '2024-06-10T12:00:00.2-07:00',
      '2020-01-01T00:00+00:00',
      '2020-01-01T00:00:00.123456789+05:30:15',
    ],
    invalid: [
      '2024-06-10T12:00:00',
      '2024-06-10 12:00:00Z',
      '2024-06-10T12:00:00+0000',
      '2023-02-29T00:00:00Z',
      '2024-06-10T25:00:00Z',
      '2024-06-10',
      'now',
      0,
    ],
  },
  AWSTimestamp: {
    valid: [0, -123456, 1718000000, 4102444800],
    invalid: ['1718000000', 1.5, Number.MAX_SAFE_INTEGER + 2, true, null],
  },
  AWSEmail: {
    valid: ['mary_major@example.com', 'a@b', 'first.last+tag@sub.example.co.uk', "o'hara@example.org"],
    invalid: [
      'example.com',
      'a@',
      '@b.com',
      'a b@example.com',
      'a..b@example.com',
      '.a@example.com',
      'a@-example.com',
      'a@b@c',
      42,
    ],
  },
  AWSJSON: {
    valid: ['{"upvotes": 10}', '[1,2,3]', '"AWSJSON example string"', '1', 'true', 'null'],
    invalid: ['{a: 1}', "{'a': 1}", 'Unquoted string', '', '{"a":', 12],
  },
  AWSURL: {
    valid: [
      'https://www.amazon.com/dp/B000NZW3KC/',
      'mailto:example@example.com',
      'http://localhost:3000/a?b=c#d',
      'ftp://example.com/file.txt',
    ],
    invalid: [
      'www.amazon.com',
      '/relative/path',
      'https://example.com//double',
      'https://exa mple.com/',
      'http://',
      '',
      7,
    ],
  },
  AWSPhone: {
    valid: [
      '+1 206 555 0100',
      '206-555-0100',
      '2065550100',
      '1-206-555-0100',
      '+44 20 7946 0958',
      '+33-1-23-45-67-89',
    ],
    invalid: [
      '1110004444',
      '555-0100',
      '(206) 555-0100',
      '206--555-0100',
      '+1 111 555 0100',
      'call me',
      '+12',
      2065550100,
    ],
  },
  AWSIPAddress: {
    valid: ['123.12.34.56', '1a2b:3c4b::1234:4567', '123.45.67.89/16', '::1', '2001:db8::/32', '0.0.0.0/0'],
    invalid: [
      '256.1.1.1',
      '1.2.3',
      '[::1]',
      '1.2.3.4/33',
      '::1/129',
      'fe80::1%eth0',
      '1.2.3.4/8/8',
      'localhost',
      1234,
    ],
  },
};

/** The GraphQL literal of a JS value (strings quoted, numbers and booleans as is). */
function literal(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

describe.each(Object.keys(CASES) as AwsScalarName[])('%s', (name) => {
  const scalar = awsScalar(name);
  const { valid, invalid } = CASES[name];

  it.each(valid.map((v) => [v]))('accepts %j as a variable and as a literal', (value) => {
    expect(() => scalar.parseValue(value)).not.toThrow();
    expect(() => scalar.parseLiteral(parseConstValue(literal(value)))).not.toThrow();
    expect(() => scalar.serialize(value)).not.toThrow();
  });

  it.each(invalid.map((v) => [v]))('refuses %j as a variable, a literal, and a result', (value) => {
    expect(() => scalar.parseValue(value)).toThrow(new RegExp(`valid ${name}`));
    if (value !== null) expect(() => scalar.parseLiteral(parseConstValue(literal(value)))).toThrow();
    if (name !== 'AWSJSON' && !(name === 'AWSTimestamp' && typeof value === 'string')) {
      expect(() => scalar.serialize(value)).toThrow();
    }
  });
});

describe('conversions', () => {
  it('AWSJSON: resolvers get the parsed value, responses get a JSON string', () => {
    const json = awsScalar('AWSJSON');
    expect(json.parseValue('{"a":[1,true]}')).toEqual({ a: [1, true] });
    expect(json.serialize({ a: [1, true] })).toBe('{"a":[1,true]}');
    expect(json.serialize('{"already":"encoded"}')).toBe('{"already":"encoded"}');
    expect(json.serialize('plain text')).toBe('"plain text"');
    expect(json.serialize([1, 2])).toBe('[1,2]');
  });

  it('AWSTimestamp: a number; integer strings (node-postgres int8) are served as numbers', () => {
    const timestamp = awsScalar('AWSTimestamp');
    expect(timestamp.serialize('1718000000')).toBe(1718000000);
    expect(timestamp.serialize(-5)).toBe(-5);
    expect(() => timestamp.serialize('17.5')).toThrow();
    expect(timestamp.parseLiteral(parseConstValue('4102444800'))).toBe(4102444800);
  });
});

// --- over HTTP -------------------------------------------------------------------------------

const SCHEMA = `
  type Query @aws_api_key {
    echo(date: AWSDate, time: AWSTime, dateTime: AWSDateTime, timestamp: AWSTimestamp, email: AWSEmail,
         json: AWSJSON, url: AWSURL, phone: AWSPhone, ip: AWSIPAddress): Values
    stored: Values
  }
  type Values @aws_api_key {
    date: AWSDate time: AWSTime dateTime: AWSDateTime timestamp: AWSTimestamp email: AWSEmail
    json: AWSJSON url: AWSURL phone: AWSPhone ip: AWSIPAddress
  }
`;

let api: TestApi;
let data: FakeDataSource;
const apiKey = { 'x-api-key': API_KEY };

beforeAll(async () => {
  data = new FakeDataSource({
    'Query.echo': (event: ResolverEvent) => event.arguments,
    // What a data source might return: some values valid, some not.
    'Query.stored': () => ({
      date: '2024-06-10',
      time: 'lunchtime',
      dateTime: '2024-06-10T12:00:00.000Z',
      timestamp: '1718000000',
      email: 'not-an-email',
      json: { nested: { ok: true } },
      url: 'https://example.com/a',
      phone: '+1 206 555 0100',
      ip: '10.0.0.1/8',
    }),
  });
  api = await startTestApi({
    schema: SCHEMA,
    resolvers: ['Query.echo', 'Query.stored'],
    dataSource: data.handler,
    apiKeys: [API_KEY],
    defaultAuthMode: 'API_KEY',
  });
});

afterAll(async () => {
  await api.close();
});

beforeEach(() => data.reset());

describe('AWS scalars over HTTP', () => {
  const ALL = 'date time dateTime timestamp email json url phone ip';

  it('valid literals reach the data source (AWSJSON parsed) and come back serialized', async () => {
    const answer = await api.query(
      `{ echo(date: "2024-06-10", time: "12:30:24.500+05:30", dateTime: "2024-06-10T12:00:00Z", timestamp: 1718000000,
        email: "mary@example.com", json: "{\\"tags\\":[\\"a\\"]}", url: "https://example.com/x", phone: "206-555-0100",
        ip: "2001:db8::1") { ${ALL} } }`,
      undefined,
      apiKey,
    );
    expect(answer.body.errors).toBeUndefined();
    expect(data.invokes[0]?.arguments).toEqual({
      date: '2024-06-10',
      time: '12:30:24.500+05:30',
      dateTime: '2024-06-10T12:00:00Z',
      timestamp: 1718000000,
      email: 'mary@example.com',
      json: { tags: ['a'] },
      url: 'https://example.com/x',
      phone: '206-555-0100',
      ip: '2001:db8::1',
    });
    expect(answer.body.data).toEqual({
      echo: {
        date: '2024-06-10',
        time: '12:30:24.500+05:30',
        dateTime: '2024-06-10T12:00:00Z',
        timestamp: 1718000000,
        email: 'mary@example.com',
        json: '{"tags":["a"]}',
        url: 'https://example.com/x',
        phone: '206-555-0100',
        ip: '2001:db8::1',
      },
    });
  });

  it('valid variables reach the data source', async () => {
    const answer = await api.query(
      'query Q($d: AWSDate!, $j: AWSJSON, $t: AWSTimestamp) { echo(date: $d, json: $j, timestamp: $t) { date json timestamp } }',
      { d: '1970-01-01Z', j: '[1,2]', t: -1 },
      apiKey,
    );
    expect(answer.body).toEqual({ data: { echo: { date: '1970-01-01Z', json: '[1,2]', timestamp: -1 } } });
    expect(data.invokes[0]?.arguments).toEqual({ date: '1970-01-01Z', json: [1, 2], timestamp: -1 });
    expect(data.invokes[0]?.info.variables).toEqual({ d: '1970-01-01Z', j: '[1,2]', t: -1 });
  });

  it.each([
    ['AWSDate', 'date: "2024-02-30"'],
    ['AWSTime', 'time: "25:00"'],
    ['AWSDateTime', 'dateTime: "2024-06-10T12:00:00"'],
    ['AWSTimestamp', 'timestamp: "1718000000"'],
    ['AWSEmail', 'email: "nobody"'],
    ['AWSJSON', 'json: "{a: 1}"'],
    ['AWSURL', 'url: "example.com"'],
    ['AWSPhone', 'phone: "1110004444"'],
    ['AWSIPAddress', 'ip: "300.1.1.1"'],
  ])('an invalid %s literal is a validation error; nothing runs', async (name, argument) => {
    const answer = await api.query(`{ echo(${argument}) { date } }`, undefined, apiKey);
    expect(answer.status).toBe(200);
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors?.[0]).toMatchObject({
      path: null,
      locations: [{ line: 1, column: expect.any(Number) }],
    });
    expect(answer.body.errors?.[0]?.['message']).toContain(name);
    expect(data.calls).toHaveLength(0);
  });

  it.each([
    ['AWSDate', { date: '2024-02-30' }],
    ['AWSTime', { time: '12:30:60' }],
    ['AWSDateTime', { dateTime: '2024-06-10T12:00:00' }],
    ['AWSTimestamp', { timestamp: 1.5 }],
    ['AWSEmail', { email: 'a b@c' }],
    ['AWSJSON', { json: "{'a': 1}" }],
    ['AWSURL', { url: 'https://a.com//b' }],
    ['AWSPhone', { phone: '555' }],
    ['AWSIPAddress', { ip: '1.2.3.4/40' }],
  ])('an invalid %s variable is an error; nothing runs', async (name, variables) => {
    const [[variable]] = [Object.keys(variables)];
    const answer = await api.query(
      `query Q($v: ${name}) { echo(${variable}: $v) { date } }`,
      { v: Object.values(variables)[0] },
      apiKey,
    );
    expect(answer.body.data).toBeNull();
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors?.[0]?.['message']).toMatch(/Variable "\$v" got invalid value/);
    expect(answer.body.errors?.[0]?.['message']).toContain(name);
    expect(data.calls).toHaveLength(0);
  });

  it('invalid results are field errors; valid ones are served (AWSJSON encoded, timestamps as numbers)', async () => {
    const answer = await api.query(`{ stored { ${ALL} } }`, undefined, apiKey);
    expect(answer.body.data).toEqual({
      stored: {
        date: '2024-06-10',
        time: null,
        dateTime: '2024-06-10T12:00:00.000Z',
        timestamp: 1718000000,
        email: null,
        json: '{"nested":{"ok":true}}',
        url: 'https://example.com/a',
        phone: '+1 206 555 0100',
        ip: '10.0.0.1/8',
      },
    });
    expect(answer.body.errors?.map((e) => e['path'])).toEqual([
      ['stored', 'time'],
      ['stored', 'email'],
    ]);
  });
});
