import { graphql, type Outcome } from './graphql-client.js';

export interface LoadUser {
  email: string;
  token: string;
}

export interface LoadRecord {
  email: string;
  /** When the request was due (open loop: latency counts from here), ms on performance.now(). */
  dueAt: number;
  sentAt: number;
  doneAt: number;
  outcome: Outcome;
  detail?: string;
}

/**
 * Open-loop load: requests leave at a fixed rate whatever the answers do (a slow answer does
 * not delay the next request, so latency is measured from when each request was due), users
 * taken in rotation; users may join while it runs.
 */
export class OpenLoopLoad {
  readonly records: LoadRecord[] = [];
  private readonly users: LoadUser[] = [];
  private issued = 0;
  private inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  startedAt = 0;

  constructor(
    private readonly url: string,
    private readonly body: string,
    private readonly perSecond: number,
  ) {}

  add(user: LoadUser): void {
    this.users.push(user);
  }

  start(): void {
    this.startedAt = performance.now();
    const tick = () => {
      const due = Math.floor(((performance.now() - this.startedAt) * this.perSecond) / 1000);
      while (this.issued < due) this.send(this.startedAt + (this.issued * 1000) / this.perSecond);
      this.timer = setTimeout(tick, 2);
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await Promise.all(this.inFlight);
  }

  private send(dueAt: number): void {
    const user = this.users[this.issued++ % this.users.length] as LoadUser;
    const sentAt = performance.now();
    const done = graphql(this.url, user.token, this.body).then((answer) => {
      this.records.push({ email: user.email, dueAt, sentAt, doneAt: performance.now(), ...answer });
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
  }
}
