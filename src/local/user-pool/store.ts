import { createHash, randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { CodePurpose, StoredCode } from './codes.js';
import { ensureDir, readJsonFile, writeFileAtomically } from './files.js';

export const POOL_FILE = 'pool.json';

export type UserStatus = 'UNCONFIRMED' | 'CONFIRMED' | 'FORCE_CHANGE_PASSWORD' | 'RESET_REQUIRED';

export interface StoredUser {
  /** Stable id (UUID), the `sub` claim. */
  sub: string;
  /** As given at sign-up; looked up case-insensitively. */
  username: string;
  /** Attribute values as strings (`email_verified` is "true" / "false"); `sub` is not among them. */
  attributes: Record<string, string>;
  status: UserStatus;
  enabled: boolean;
  passwordHash: string;
  createdAt: number;
  modifiedAt: number;
  /** Group names. */
  groups: string[];
  /** The latest code per purpose. */
  codes: Partial<Record<CodePurpose, StoredCode>>;
}

export interface StoredGroup {
  name: string;
  description?: string;
  precedence?: number;
  roleArn?: string;
  createdAt: number;
  modifiedAt: number;
}

/**
 * What a refresh token stands for: one sign-in. Its `originJti` is the `origin_jti` of every ID
 * and access token issued from it, so revoking it revokes them too.
 */
export interface RefreshSession {
  originJti: string;
  /** SHA-256 of the refresh token (hex); the token itself is never stored. */
  tokenHash: string;
  sub: string;
  clientId: string;
  /** Seconds, the `auth_time` of every token issued from this session. */
  authTime: number;
  createdAt: number;
  expiresAt: number;
  revoked: boolean;
}

interface PoolFile {
  version: 1;
  poolId: string;
  clientId: string;
  createdAt: number;
  users: StoredUser[];
  groups: StoredGroup[];
  sessions: RefreshSession[];
}

export interface StoreIdentity {
  poolId?: string;
  clientId?: string;
  /** Prefix of a generated pool id (`<prefix>_<9 alphanumerics>`). */
  poolIdPrefix: string;
}

/**
 * The pool's data, held in memory and saved whole to `pool.json` (atomically, mode 0600) after
 * each change. One server per data folder.
 */
export class PoolStore {
  private readonly users = new Map<string, StoredUser>(); // by sub
  private readonly byUsername = new Map<string, StoredUser>(); // by lower-cased username
  readonly groups = new Map<string, StoredGroup>();
  private readonly sessions = new Map<string, RefreshSession>(); // by origin_jti
  private readonly byTokenHash = new Map<string, RefreshSession>();
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly path: string,
    readonly poolId: string,
    readonly clientId: string,
    private readonly createdAt: number,
    private readonly now: () => number,
  ) {}

  static async open(dir: string, identity: StoreIdentity, now: () => number): Promise<PoolStore> {
    await ensureDir(dir);
    const path = join(dir, POOL_FILE);
    const file = await readJsonFile(path);
    if (file === undefined) {
      const store = new PoolStore(
        path,
        identity.poolId ?? `${identity.poolIdPrefix}_${randomString(9, ALPHANUMERIC)}`,
        identity.clientId ?? randomString(26, LOWER_ALPHANUMERIC),
        now(),
        now,
      );
      await store.save();
      return store;
    }
    if (!isPoolFile(file)) throw new Error(`${path} is not a version 1 user pool file`);
    const store = new PoolStore(
      path,
      identity.poolId ?? file.poolId,
      identity.clientId ?? file.clientId,
      file.createdAt,
      now,
    );
    for (const user of file.users) store.addUser(user);
    for (const group of file.groups) store.groups.set(group.name, group);
    for (const session of file.sessions) store.addSession(session);
    if (store.poolId !== file.poolId || store.clientId !== file.clientId) await store.save();
    return store;
  }

  // ---- users

  allUsers(): StoredUser[] {
    return [...this.users.values()];
  }

  userBySub(sub: string): StoredUser | undefined {
    return this.users.get(sub);
  }

  /** By username, else by email (the pool's username alias); both case-insensitive. */
  findUser(name: string): StoredUser | undefined {
    const key = name.toLowerCase();
    const byName = this.byUsername.get(key);
    if (byName) return byName;
    for (const user of this.users.values()) {
      if (user.attributes['email']?.toLowerCase() === key) return user;
    }
    return undefined;
  }

  addUser(user: StoredUser): void {
    this.users.set(user.sub, user);
    this.byUsername.set(user.username.toLowerCase(), user);
  }

  deleteUser(sub: string): void {
    const user = this.users.get(sub);
    if (!user) return;
    this.users.delete(sub);
    this.byUsername.delete(user.username.toLowerCase());
    for (const session of [...this.sessions.values()]) {
      if (session.sub === sub) this.deleteSession(session);
    }
  }

  // ---- refresh sessions

  addSession(session: RefreshSession): void {
    this.sessions.set(session.originJti, session);
    this.byTokenHash.set(session.tokenHash, session);
  }

  sessionByToken(refreshToken: string): RefreshSession | undefined {
    return this.byTokenHash.get(hashToken(refreshToken));
  }

  sessionByOriginJti(originJti: string): RefreshSession | undefined {
    return this.sessions.get(originJti);
  }

  /** Revokes every refresh token of the user, and with them every token issued from them. */
  revokeSessionsOf(sub: string): void {
    for (const session of this.sessions.values()) {
      if (session.sub === sub) session.revoked = true;
    }
  }

  private deleteSession(session: RefreshSession): void {
    this.sessions.delete(session.originJti);
    this.byTokenHash.delete(session.tokenHash);
  }

  // ---- persistence

  /** Writes the whole pool; writes are queued, so the last one always holds the latest state. */
  save(): Promise<void> {
    const write = this.writing.then(() => {
      this.purgeExpiredSessions();
      return writeFileAtomically(this.path, `${JSON.stringify(this.snapshot(), null, 2)}\n`);
    });
    // A failed write must not block the ones after it; the caller still sees its own failure.
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** Waits for queued writes. */
  flush(): Promise<void> {
    return this.writing;
  }

  private snapshot(): PoolFile {
    return {
      version: 1,
      poolId: this.poolId,
      clientId: this.clientId,
      createdAt: this.createdAt,
      users: [...this.users.values()],
      groups: [...this.groups.values()],
      sessions: [...this.sessions.values()],
    };
  }

  private purgeExpiredSessions(): void {
    const now = this.now();
    for (const session of [...this.sessions.values()]) {
      if (session.expiresAt <= now) this.deleteSession(session);
    }
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet.charAt(randomInt(alphabet.length))).join('');
}

function isPoolFile(value: unknown): value is PoolFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Partial<PoolFile>;
  return (
    file.version === 1 &&
    typeof file.poolId === 'string' &&
    typeof file.clientId === 'string' &&
    typeof file.createdAt === 'number' &&
    Array.isArray(file.users) &&
    Array.isArray(file.groups) &&
    Array.isArray(file.sessions)
  );
}
