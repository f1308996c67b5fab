import { randomBytes } from 'node:crypto';

/** Cognito's challenge sessions last three minutes. */
export const CHALLENGE_TTL_MS = 3 * 60_000;

export interface Challenge {
  name: 'NEW_PASSWORD_REQUIRED';
  sub: string;
  clientId: string;
  expiresAt: number;
}

/** Open authentication challenges by their opaque `Session` string; in memory only. */
export class Challenges {
  private readonly open = new Map<string, Challenge>();

  constructor(private readonly now: () => number) {}

  start(challenge: Omit<Challenge, 'expiresAt'>): string {
    this.purge();
    const session = randomBytes(96).toString('base64url');
    this.open.set(session, { ...challenge, expiresAt: this.now() + CHALLENGE_TTL_MS });
    return session;
  }

  get(session: string): Challenge | undefined {
    this.purge();
    return this.open.get(session);
  }

  end(session: string): void {
    this.open.delete(session);
  }

  private purge(): void {
    const now = this.now();
    for (const [session, challenge] of this.open) {
      if (challenge.expiresAt <= now) this.open.delete(session);
    }
  }
}
