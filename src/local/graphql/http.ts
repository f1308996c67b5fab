import type { IncomingMessage, ServerResponse } from 'node:http';

/** Small HTTP helpers of the endpoint: bounded bodies and JSON answers. */

export class BodyTooLarge extends Error {}

/** One body being read: its chunks, and whether its promise is settled. */
class BodyReader {
  private first: Buffer | undefined;
  private rest: Buffer[] | undefined;
  private size = 0;
  private settled = false;

  constructor(
    private readonly request: IncomingMessage,
    private readonly limit: number,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  data(chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.fail(new BodyTooLarge());
      this.request.destroy();
      return;
    }
    if (this.first === undefined) this.first = chunk;
    else (this.rest ??= [this.first]).push(chunk);
  }

  end(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(this.rest ? Buffer.concat(this.rest, this.size) : (this.first ?? Buffer.alloc(0)));
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }

  closed(): void {
    if (!this.settled) this.fail(new Error('the request ended before its body was complete'));
  }
}

/**
 * The body, refused once it grows past `limit` bytes (the request is then destroyed, as an
 * abandoned async iteration would). Listeners rather than `for await`: the async iterator's
 * promises and end-of-stream machinery cost more than the rest of reading a small body. (The
 * listeners are unnamed and the state a class: tsx, which runs the local stack, names every
 * function bound to a name each time it is created.)
 */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const reader = new BodyReader(request, limit, resolve, reject);
    request.on('data', (chunk: Buffer) => reader.data(chunk));
    request.once('end', () => reader.end());
    request.once('error', (error: Error) => reader.fail(error));
    request.once('close', () => reader.closed());
  });
}

export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'x-amzn-requestid, x-amzn-errortype',
};

export const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = {
  ...CORS_HEADERS,
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers':
    'authorization, content-type, x-api-key, x-amz-date, x-amz-security-token, x-amz-user-agent',
  'access-control-max-age': '86400',
};

const JSON_HEADERS: readonly string[] = [
  'content-type',
  'application/json; charset=UTF-8',
  'cache-control',
  'no-store',
];

/**
 * A JSON answer in one write: the body as text (Node sends a string body together with the
 * head), the headers as a flat list (no merging of header objects per response).
 */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  sendJsonText(response, status, JSON.stringify(body), headers);
}

export function sendJsonText(
  response: ServerResponse,
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = {},
  requestId?: string,
): void {
  const list: string[] = [];
  // A header given by the caller replaces the default of the same name, as a merge would.
  for (let i = 0; i < JSON_HEADERS.length; i += 2) {
    const name = JSON_HEADERS[i] as string;
    if (!(name in headers)) list.push(name, JSON_HEADERS[i + 1] as string);
  }
  list.push('content-length', String(Buffer.byteLength(text)));
  for (const name in headers) list.push(name, headers[name] as string);
  if (requestId !== undefined) list.push('x-amzn-requestid', requestId);
  response.writeHead(status, list);
  response.end(text);
}

export function acceptsHtml(request: IncomingMessage): boolean {
  const accept = request.headers['accept'] ?? '';
  return /\btext\/html\b/i.test(Array.isArray(accept) ? accept.join(',') : accept);
}
