import { median, percentile, round } from '../result.js';
import type { LoadRecord } from './load.js';

/** One suspension of one user, on performance.now()'s clock. */
export interface Suspension {
  email: string;
  suspendStart: number;
  suspendResolved: number;
  reactivateStart: number;
  reactivateResolved: number;
}

export interface MinuteStats {
  minute: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  unexpected: number;
}

export interface LoadAnalysis {
  requests: number;
  ok: number;
  expectedDenials: number;
  /** Errors of any kind, and denials of a user who was not suspended at the time. */
  unexpected: number;
  unexpectedSamples: string[];
  /** Requests sent after suspend() returned and before reactivation began that were served. */
  servedWhileSuspended: number;
  perMinute: MinuteStats[];
  achievedPerSecond: number;
  /** How late requests left this process (its own stalls), p99, ms. */
  sendLagP99Ms: number;
  /** Sent to answered, p99, ms: latency without the generator's own lateness. */
  serviceP99Ms: number;
}

export function analyze(
  records: readonly LoadRecord[],
  suspensions: readonly Suspension[],
  startedAt: number,
): LoadAnalysis {
  const byUser = new Map<string, Suspension[]>();
  for (const s of suspensions) byUser.set(s.email, [...(byUser.get(s.email) ?? []), s]);
  const minutes = new Map<number, { latencies: number[]; unexpected: number }>();
  const out: LoadAnalysis = {
    requests: records.length,
    ok: 0,
    expectedDenials: 0,
    unexpected: 0,
    unexpectedSamples: [],
    servedWhileSuspended: 0,
    perMinute: [],
    achievedPerSecond: 0,
    sendLagP99Ms: round(
      percentile(
        records.map((r) => r.sentAt - r.dueAt),
        99,
      ),
      2,
    ),
    serviceP99Ms: round(
      percentile(
        records.map((r) => r.doneAt - r.sentAt),
        99,
      ),
      2,
    ),
  };
  for (const r of records) {
    const windows = byUser.get(r.email) ?? [];
    // A request whose life overlaps a suspension may be refused.
    const overlaps = windows.some((w) => r.sentAt <= w.reactivateResolved && r.doneAt >= w.suspendStart);
    const minute = Math.floor((r.dueAt - startedAt) / 60_000);
    const m = minutes.get(minute) ?? { latencies: [], unexpected: 0 };
    minutes.set(minute, m);
    m.latencies.push(r.doneAt - r.dueAt);
    const unexpected = r.outcome === 'error' || (r.outcome === 'denied' && !overlaps);
    if (unexpected) {
      out.unexpected++;
      m.unexpected++;
      if (out.unexpectedSamples.length < 5)
        out.unexpectedSamples.push(`${r.email}: ${r.outcome} ${r.detail ?? ''}`);
    } else if (r.outcome === 'denied') {
      out.expectedDenials++;
    } else {
      out.ok++;
      if (windows.some((w) => r.sentAt >= w.suspendResolved && r.sentAt < w.reactivateStart))
        out.servedWhileSuspended++;
    }
  }
  out.perMinute = [...minutes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([minute, m]) => ({
      minute,
      requests: m.latencies.length,
      p50Ms: round(median(m.latencies), 2),
      p99Ms: round(percentile(m.latencies, 99), 2),
      unexpected: m.unexpected,
    }));
  const last = Math.max(...records.map((r) => r.dueAt));
  out.achievedPerSecond = round(records.length / ((last - startedAt) / 1000), 1);
  return out;
}
