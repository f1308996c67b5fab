import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApp } from '../../src/local/app.js';
import { ensurePoolLogin } from '../../src/local/pool-users.js';
import { startLocalStack, type LocalStack } from '../../src/local/stack.js';
import { startCluster, type TestCluster } from './cluster.js';

const AGENTS_APP = fileURLToPath(new URL('../../examples/agents/', import.meta.url));

export interface AgentsStack {
  cluster: TestCluster;
  home: string;
  stack: LocalStack;
  /** The seeded users' password on the local user pool. */
  password: string;
  /** A seeded user's ID token, from a real InitiateAuth through the AWS SDK (cached per email). */
  token(email: string): Promise<string>;
  stop(): Promise<void>;
}

/** The local stack over the agents example on a private cluster, seeded, as `npm start` runs it. */
export async function startAgentsStack(): Promise<AgentsStack> {
  const cluster = await startCluster();
  const home = await mkdtemp(join(tmpdir(), 'pgc-agents-'));
  await chmod(home, 0o711);
  const app = await loadApp(AGENTS_APP);
  const stack = await startLocalStack({ home, databaseUrl: cluster.url, port: 0, app });
  // A test may close the stack itself; closing it again is then a no-op.
  const close = stack.close.bind(stack);
  let closing: Promise<void> | undefined;
  stack.close = () => (closing ??= close());
  const password = (await app.seed?.(stack.cognition))?.password as string;
  const cognito = new CognitoIdentityProviderClient({
    endpoint: stack.userPool.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const tokens = new Map<string, string>();
  return {
    cluster,
    home,
    stack,
    password,
    async token(email) {
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
    },
    async stop() {
      cognito.destroy();
      await stack.close();
      await cluster.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}
