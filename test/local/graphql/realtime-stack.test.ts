import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STACK_INFO_FILE, type LocalStack, type StackInfo } from '../../../src/local/stack.js';
import { startAgentsStack, type AgentsStack } from '../../support/agents-stack.js';
import { RealtimeClient, type RealtimeMessage } from './realtime-client.js';

// Subscriptions end to end over the agents example: AppSync's WebSocket protocol on the local
// stack's port, sendMessage through POST /graphql, and every event read again by Postgres as the
// subscriber (Subscription.onMessage: messages are readable by their sender and recipient only).

const NEVER_MS = 500;
const ON_MESSAGE = 'subscription ($to: ID!) { onMessage(recipientId: $to) { id body senderId recipientId } }';
const SEND = 'mutation ($to: ID!, $body: String!) { sendMessage(recipientId: $to, body: $body) { id } }';

interface Payload {
  data?: { onMessage?: Record<string, unknown> | null };
  errors?: Array<{ errorType: string; message: string; errorCode?: number }>;
  connectionTimeoutMs?: number;
}
type Message = RealtimeMessage<Payload>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dataFor = (id: string) => (m: Message) => m.type === 'data' && m.id === id;

describe('local stack: GraphQL subscriptions over the real-time WebSocket endpoint (agents)', () => {
  let agents: AgentsStack;
  let stack: LocalStack;
  let home: string;
  const clients: RealtimeClient<Payload>[] = [];
  const token = (email: string) => agents.token(email);
  const userId = async (email: string) => (await stack.cognition.users.require(email)).id;
  const realtimeUrl = (authorization: string) => {
    const header = Buffer.from(
      JSON.stringify({ host: new URL(stack.userPool.url).host, Authorization: authorization }),
    ).toString('base64');
    return `${stack.userPool.url.replace(/^http/, 'ws')}/graphql/realtime?header=${encodeURIComponent(header)}&payload=e30=`;
  };
  /** Connects as `email`, acknowledged. */
  const connect = async (email: string): Promise<RealtimeClient<Payload>> => {
    const client = await RealtimeClient.open<Payload>(realtimeUrl(await token(email)));
    clients.push(client);
    client.send({ type: 'connection_init' });
    expect(
      (await client.next((m) => m.type === 'connection_ack' || m.type === 'connection_error')).type,
    ).toBe('connection_ack');
    return client;
  };
  /** Subscribes as the connection's user to messages for `recipientEmail`. */
  const watch = async (client: RealtimeClient<Payload>, id: string, recipientEmail: string) => {
    const answer = await client.start(id, ON_MESSAGE, { to: await userId(recipientEmail) });
    expect(answer).toEqual({ type: 'start_ack', id });
  };
  const send = async (fromEmail: string, toEmail: string, body: string) => {
    const response = await fetch(`${stack.userPool.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await token(fromEmail) },
      body: JSON.stringify({ query: SEND, variables: { to: await userId(toEmail), body } }),
    });
    const answer = (await response.json()) as { data?: { sendMessage: { id: string } }; errors?: unknown[] };
    expect(answer.errors).toBeUndefined();
    return answer.data?.sendMessage.id as string;
  };

  beforeAll(async () => {
    agents = await startAgentsStack();
    ({ stack, home } = agents);
  });
  afterEach(async () => {
    const open = clients.splice(0);
    for (const client of open) client.socket.terminate();
    await Promise.all(open.map((client) => client.closed));
  });
  afterAll(async () => {
    await agents?.stop();
  });

  it('speaks the protocol: connection_init/ack, ka, start/start_ack, stop/complete', async () => {
    const info = JSON.parse(await readFile(join(home, STACK_INFO_FILE), 'utf8')) as StackInfo;
    expect(info.graphql?.realtime).toBe(`${stack.userPool.url.replace(/^http/, 'ws')}/graphql/realtime`);

    const client = await RealtimeClient.open<Payload>(realtimeUrl(await token('moneypenny@mi6.test')));
    clients.push(client);
    expect(client.socket.protocol).toBe('graphql-ws');
    client.send({ type: 'connection_init' });
    expect(await client.next((m) => m.type !== 'ka')).toEqual({
      type: 'connection_ack',
      payload: { connectionTimeoutMs: 300000 },
    });
    await client.next((m) => m.type === 'ka');
    await watch(client, 'protocol', 'moneypenny@mi6.test');
    client.send({ type: 'stop', id: 'protocol' });
    expect(await client.next((m) => m.id === 'protocol')).toEqual({ type: 'complete', id: 'protocol' });
    expect(stack.graphql?.subscriptions.size).toBe(0);
  });

  it('delivers a sendMessage to its recipient, with the selected fields only', async () => {
    const recipient = await connect('moneypenny@mi6.test');
    await recipient.start(
      'mine',
      'subscription ($to: ID!) { onMessage(recipientId: $to) { body from: senderId } }',
      { to: await userId('moneypenny@mi6.test') },
    );
    await send('agent.007@mi6.test', 'moneypenny@mi6.test', 'Shaken, not stirred.');
    const event = await recipient.next(dataFor('mine'));
    expect(event.payload).toEqual({
      data: { onMessage: { body: 'Shaken, not stirred.', from: await userId('agent.007@mi6.test') } },
    });
  });

  it("never delivers to another agency's subscriber whose filter names the same recipient", async () => {
    const recipient = await connect('moneypenny@mi6.test');
    await watch(recipient, 'control', 'moneypenny@mi6.test');
    const cia = await connect('director@cia.test');
    await watch(cia, 'spy', 'moneypenny@mi6.test');
    await send('agent.007@mi6.test', 'moneypenny@mi6.test', 'For your eyes only (cross-agency).');
    await recipient.next(dataFor('control'));
    await sleep(NEVER_MS);
    expect(cia.all((m) => m.type === 'data' || m.type === 'error')).toEqual([]);
  });

  it('never delivers to a colleague of the recipient who names the recipient in the filter', async () => {
    const recipient = await connect('moneypenny@mi6.test');
    await watch(recipient, 'control', 'moneypenny@mi6.test');
    // The agency lead and an office administrator of the same agency: neither sender nor recipient.
    const lead = await connect('m@mi6.test');
    await watch(lead, 'snoop', 'moneypenny@mi6.test');
    const kerim = await connect('kerim@mi6.test');
    await watch(kerim, 'snoop', 'moneypenny@mi6.test');
    await send('agent.007@mi6.test', 'moneypenny@mi6.test', 'For your eyes only (same agency).');
    await recipient.next(dataFor('control'));
    await sleep(NEVER_MS);
    expect(lead.all((m) => m.type === 'data')).toEqual([]);
    expect(kerim.all((m) => m.type === 'data')).toEqual([]);
  });

  it('delivers to the sender too, who may read the message', async () => {
    const sender = await connect('agent.007@mi6.test');
    await watch(sender, 'sent', 'moneypenny@mi6.test');
    await send('agent.007@mi6.test', 'moneypenny@mi6.test', 'Copy for the sender.');
    expect((await sender.next(dataFor('sent'))).payload?.data?.onMessage?.['body']).toBe(
      'Copy for the sender.',
    );
  });

  it('refuses an unauthenticated or forged start, and a forged connection', async () => {
    const client = await connect('moneypenny@mi6.test');
    const to = { to: await userId('moneypenny@mi6.test') };
    const none = await client.start('none', ON_MESSAGE, to, { host: 'local' });
    expect(none).toEqual({
      type: 'error',
      id: 'none',
      payload: {
        errors: [{ errorType: 'UnauthorizedException', message: 'Valid authorization header not provided.' }],
      },
    });
    const real = await token('moneypenny@mi6.test');
    const [header, payload, signature] = real.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forgedToken = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${signature}`;
    const forged = await client.start('forged', ON_MESSAGE, to, { Authorization: forgedToken });
    expect(forged.type).toBe('error');
    expect(forged.payload?.errors?.[0]?.errorType).toBe('UnauthorizedException');
    expect(stack.graphql?.subscriptions.size).toBe(0);

    const forgedConnection = await RealtimeClient.open<Payload>(realtimeUrl(forgedToken));
    clients.push(forgedConnection);
    forgedConnection.send({ type: 'connection_init' });
    const refused = await forgedConnection.next((m) => m.type === 'connection_error');
    expect(refused.payload?.errors?.[0]).toMatchObject({
      errorType: 'UnauthorizedException',
      errorCode: 401,
    });
    await forgedConnection.closed;
  });

  it('stops delivering to a subscriber once they are suspended', async () => {
    const recipient = await connect('moneypenny@mi6.test');
    await watch(recipient, 'live', 'moneypenny@mi6.test');
    const sender = await connect('agent.007@mi6.test');
    await watch(sender, 'control', 'moneypenny@mi6.test');
    await send('agent.007@mi6.test', 'moneypenny@mi6.test', 'Before the suspension.');
    await recipient.next(dataFor('live'));
    await sender.next(dataFor('control'));

    const user = await stack.cognition.users.require('moneypenny@mi6.test');
    await stack.cognition.suspendUser(user.id);
    try {
      await send('agent.007@mi6.test', 'moneypenny@mi6.test', 'After the suspension.');
      await sender.next(dataFor('control'));
      await sleep(NEVER_MS);
      const bodies = recipient.all(dataFor('live')).map((m) => m.payload?.data?.onMessage?.['body']);
      expect(bodies).toEqual(['Before the suspension.']);
    } finally {
      await stack.cognition.users.reactivate(user.id);
    }
  });

  it('closes WebSocket connections when the stack closes', async () => {
    const client = await connect('moneypenny@mi6.test');
    await watch(client, 'closing', 'moneypenny@mi6.test');
    const closing = stack.close();
    expect((await client.closed).code).toBe(1001);
    await closing;
  });
});
