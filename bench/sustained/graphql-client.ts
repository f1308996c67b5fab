import { Agent, request } from 'node:http';

/** What one GraphQL answer amounts to for this bench. */
export type Outcome = 'ok' | 'denied' | 'error';

export interface Answer {
  outcome: Outcome;
  /** Status and the start of the body, for anything but ok. */
  detail?: string;
}

// Keep-alive connections, as AppSync or a browser keeps them; enough for bursts. An idle one is
// closed after 3 s, before the server's 5 s keep-alive timeout, so that a request never goes
// out on a socket the server is closing at that moment (which reads as ECONNRESET).
const agent = new Agent({ keepAlive: true, maxSockets: 128, timeout: 3000 });

/**
 * POSTs one GraphQL query. Denied means HTTP 200 whose every error is AppSync's Unauthorized
 * (what Postgres refusing the user's role becomes); ok means 200, data, and no error at all.
 */
export function graphql(url: string, token: string, body: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () =>
          resolve(classify(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
        );
        response.on('error', (e) => resolve({ outcome: 'error', detail: `response: ${e.message}` }));
      },
    );
    req.on('error', (e) => resolve({ outcome: 'error', detail: `request: ${e.message}` }));
    req.end(body);
  });
}

function classify(status: number, text: string): Answer {
  let body: { data?: unknown; errors?: { errorType?: string }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { outcome: 'error', detail: `${status} ${text.slice(0, 200)}` };
  }
  if (status === 200 && !body.errors && body.data) return { outcome: 'ok' };
  const errors = body.errors ?? [];
  if (status === 200 && errors.length > 0 && errors.every((e) => /^Unauthorized/.test(e.errorType ?? ''))) {
    return { outcome: 'denied', detail: text.slice(0, 200) };
  }
  return { outcome: 'error', detail: `${status} ${text.slice(0, 300)}` };
}

export function closeConnections(): void {
  agent.destroy();
}
