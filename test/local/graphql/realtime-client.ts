import WebSocket from 'ws';

/** A message of AppSync's real-time protocol, with the payload shape a test expects. */
export type RealtimeMessage<P = Record<string, unknown>> = { type: string; id?: string; payload?: P };

/** A bare AppSync real-time client over `ws`. */
export class RealtimeClient<P = Record<string, unknown>> {
  private readonly received: RealtimeMessage<P>[] = [];
  private readonly consumed = new Set<RealtimeMessage<P>>();
  private readonly waiters: Array<{
    match: (m: RealtimeMessage<P>) => boolean;
    resolve: (m: RealtimeMessage<P>) => void;
  }> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as RealtimeMessage<P>;
      this.received.push(message);
      const index = this.waiters.findIndex((w) => w.match(message));
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        this.consumed.add(message);
        waiter?.resolve(message);
      }
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static open<P = Record<string, unknown>>(
    url: string,
    protocols: string[] = ['graphql-ws'],
    headers: Record<string, string> = {},
  ): Promise<RealtimeClient<P>> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, protocols, { headers });
      const client = new RealtimeClient<P>(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`HTTP ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  next(match: (m: RealtimeMessage<P>) => boolean, timeoutMs = 5000): Promise<RealtimeMessage<P>> {
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

  all(match: (m: RealtimeMessage<P>) => boolean): RealtimeMessage<P>[] {
    return this.received.filter(match);
  }

  async init(): Promise<RealtimeMessage<P>> {
    this.send({ type: 'connection_init' });
    return this.next((m) => m.type === 'connection_ack' || m.type === 'connection_error');
  }

  async start(
    id: string,
    query: string,
    variables: Record<string, unknown> = {},
    authorization?: Record<string, string>,
  ): Promise<RealtimeMessage<P>> {
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

  close(): void {
    this.socket.close();
  }
}
