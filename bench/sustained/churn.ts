import { setTimeout as sleep } from 'node:timers/promises';
import type { Cognition } from '../../src/cognition.js';
import type { Suspension } from './analysis.js';
import { graphql, type Answer } from './graphql-client.js';
import type { LoadUser, OpenLoopLoad } from './load.js';
import { idToken } from '../id-token.js';

export interface ChurnOptions {
  cognition: Cognition;
  pool: { url: string; clientId: string };
  graphqlUrl: string;
  body: string;
  password: string;
  load: OpenLoopLoad;
  /** Users taken in turn for suspension. */
  candidates: readonly LoadUser[];
  periodMs: number;
  suspendedMs: number;
  until: number;
  onPeriod?: (index: number) => Promise<void>;
  log: (line: string) => void;
}

export interface ChurnResult {
  tenantsCreated: number;
  createMs: number[];
  suspensions: Suspension[];
  /** The first request after suspend() returned was served (should have been refused). */
  suspendViolations: string[];
  /** The first request after reactivation returned was refused (or failed). */
  reactivateViolations: string[];
}

/**
 * Every period while the load runs: a new tenant, whose first user signs up on the user pool
 * and joins the load; and a user suspended, probed at once (the very next request must be
 * refused), reactivated `suspendedMs` later and probed again (must be served).
 */
export async function churn(o: ChurnOptions): Promise<ChurnResult> {
  const result: ChurnResult = {
    tenantsCreated: 0,
    createMs: [],
    suspensions: [],
    suspendViolations: [],
    reactivateViolations: [],
  };
  const origin = performance.now();
  for (let k = 1; origin + k * o.periodMs < o.until; k++) {
    await sleep(Math.max(0, origin + k * o.periodMs - performance.now()));
    const slug = `churn${k}`;
    const started = performance.now();
    await o.cognition.tenants.create({ slug, name: `Churn ${k}` });
    result.createMs.push(performance.now() - started);
    result.tenantsCreated++;
    const email = `lead@${slug}.test`;
    await o.cognition.users.invite({ email, tenant: slug, role: 'admin' });
    o.load.add({ email, token: await idToken(o.pool, email, o.password) });

    const victim = o.candidates[(k - 1) % o.candidates.length] as LoadUser;
    const suspendStart = performance.now();
    await o.cognition.suspendUser(victim.email);
    const suspendResolved = performance.now();
    const afterSuspend = await graphql(o.graphqlUrl, victim.token, o.body);
    if (afterSuspend.outcome !== 'denied') result.suspendViolations.push(describe(victim, afterSuspend));
    await sleep(Math.max(0, suspendResolved + o.suspendedMs - performance.now()));
    const reactivateStart = performance.now();
    await o.cognition.users.reactivate(victim.email);
    const reactivateResolved = performance.now();
    const afterReactivate = await graphql(o.graphqlUrl, victim.token, o.body);
    if (afterReactivate.outcome !== 'ok') result.reactivateViolations.push(describe(victim, afterReactivate));
    result.suspensions.push({
      email: victim.email,
      suspendStart,
      suspendResolved,
      reactivateStart,
      reactivateResolved,
    });
    await o.onPeriod?.(k);
  }
  return result;
}

function describe(user: LoadUser, answer: Answer): string {
  return `${user.email}: ${answer.outcome} ${answer.detail ?? ''}`.trim();
}
