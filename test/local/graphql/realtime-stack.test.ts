import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadApp } from '../../../src/local/app.js';
import { ensurePoolLogin } from '../../../src/local/pool-users.js';
import {
  startLocalStack,
  STACK_INFO_FILE,
  type LocalStack,
  type StackInfo,
} from '../../../src/local/stack.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';

// Subscriptions end to end over the agents example: AppSync's WebSocket protocol on the local
// stack's port, sendMessage through POST /graphql, and every event read again by Postgres as the
// subscriber (Subscription.onMessage: messages are readable by their sender and recipient only).

const AGENTS_APP = fileURLToPath(new URL('../../../examples/agents/', import.meta.url));
const NEVER_MS = 500;
const ON_MESSAGE = 'subscription ($to: ID!) { onMessage(recipientId: $to) { id body senderId recipientId } }';
const SEND = 'mutation ($to: ID!, $body: String!) { sendMessage(recipientId: $to, body: $body) { id } }';

interface Payload {
  data?: { onMessage?: Record<string, unknown> | null };
  errors?: Array<{ errorType: string; message: string; errorCode?: number }>;
  connectionTimeoutMs?: number;
}
type Message = { type: string; id?: string; payload?: Payload };

/** A bare AppSync real-time client over `ws`. */
class RealtimeClient {
  private readonly received: Message[] = [];
  private readonly consumed = new Set<Message>();
  private readonly waiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void }> = [];
  readonly closed: Promise<{ code: number }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as Message;
      this.received.push(message);
      const index = this.waiters.findIndex((w) => w.match(message));
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        this.consumed.add(message);
        waiter?.resolve(message);
      }
    });
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve({ code })));
  }

  static open(url: string): Promise<RealtimeClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, ['graphql-ws']);
      const client = new RealtimeClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  next(match: (m: Message) => boolean, timeoutMs = 5000): Promise<Message> {
    const ready = this.received.find((m) => !this.consumed.has(m) && match(m));
    if (ready) {
      this.consumed.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      waiter.resolve = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.waiters.push(waiter);
    });
  }

  all(match: (m: Message) => boolean): Message[] {
    return this.received.filter(match);
  }

  start(
    id: string,
    query: string,
    variables: Record<string, unknown>,
    authorization?: Record<string, string>,
  ): Promise<Message> {
    this.send({
      id,
      type: 'start',
      payload: {
        data: JSON.stringify({ query, variables }),
        extensions: authorization ? { authorization } : {},
      },
    });
    return this.next((m) => m.id === id && (m.type === 'start_ack' || m.type === 'error'));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dataFor = (id: string) => (m: Message) => m.type === 'data' && m.id === id;

describe('local stack: GraphQL subscriptions over the real-time WebSocket endpoint (agents)', () => {
  let cluster: TestCluster;
  let home: string;
  let stack: LocalStack;
  let stackClosed = false;
  let cognito: CognitoIdentityProviderClient;
  let password: string;
  const tokens = new Map<string, string>();
  const clients: RealtimeClient[] = [];

  const token = async (email: string) => {
    const cached = tokens.get(email);
    if (cached) return cached;
    await ensurePoolLogin(stack.userPool, email, password);
    const { AuthenticationResult } = await cognito.send(
      new InitiateAuthCommand({
        ClientId: stack.userPool.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: password },
      }),
    );
    const id = AuthenticationResult?.IdToken as string;
    tokens.set(email, id);
    return id;
  };
  const userId = async (email: string) => (await stack.cognition.users.require(email)).id;
  const realtimeUrl = (authorization: string) => {
    const header = Buffer.from(
      JSON.stringify({ host: new URL(stack.userPool.url).host, Authorization: authorization }),
    ).toString('base64');
    return `${stack.userPool.url.replace(/^http/, 'ws')}/graphql/realtime?header=${encodeURIComponent(header)}&payload=e30=`;
  };
  /** Connects as `email`, acknowledged. */
  const connect = async (email: string): Promise<RealtimeClient> => {
    const client = await RealtimeClient.open(realtimeUrl(await token(email)));
    clients.push(client);
    client.send({ type: 'connection_init' });
    expect(
      (await client.next((m) => m.type === 'connection_ack' || m.type === 'connection_error')).type,
    ).toBe('connection_ack');
    return client;
  };
  /** Subscribes as the connection's user to messages for `recipientEmail`. */
  const watch = async (client: RealtimeClient, id: string, recipientEmail: string) => {
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
    cluster = await startCluster();
    home = await mkdtemp(join(tmpdir(), 'pgc-rt-'));
    await chmod(home, 0o711);
    const app = await loadApp(AGENTS_APP);
    stack = await startLocalStack({ home, databaseUrl: cluster.url, port: 0, app });
    const seeded = await app.seed?.(stack.cognition);
    password = seeded?.password as string;
    cognito = new CognitoIdentityProviderClient({
      endpoint: stack.userPool.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  });
  afterEach(async () => {
    const open = clients.splice(0);
    for (const client of open) client.socket.terminate();
    await Promise.all(open.map((client) => client.closed));
  });
  afterAll(async () => {
    cognito?.destroy();
    if (!stackClosed) await stack?.close();
    await cluster?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('speaks the protocol: connection_init/ack, ka, start/start_ack, stop/complete', async () => {
    const info = JSON.parse(await readFile(join(home, STACK_INFO_FILE), 'utf8')) as StackInfo;
    expect(info.graphql?.realtime).toBe(`${stack.userPool.url.replace(/^http/, 'ws')}/graphql/realtime`);

    const client = await RealtimeClient.open(realtimeUrl(await token('moneypenny@mi6.test')));
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

    const forgedConnection = await RealtimeClient.open(realtimeUrl(forgedToken));
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
    stackClosed = true;
    expect((await client.closed).code).toBe(1001);
    await closing;
  });
});
