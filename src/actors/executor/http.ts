import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { HordeError } from '../../util/errors';

/** A transport-level HTTP failure (refused, reset, silent for too long): always worth a retry. */
export class HttpTransportError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('executor.http_transport', message, options);
  }
}

export interface HttpRequestInput {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly url: string;
  readonly headers?: OutgoingHttpHeaders;
  /** A fresh body per call (a stream can be read once; retries make a new one). */
  readonly body?: () => Readable | Buffer;
  /** Follow 301/302/303/307/308 up to this many times (GET only). 0: return the redirect response. */
  readonly maxRedirects: number;
  /** The request fails when the socket stays silent this long (connecting, sending or receiving). */
  readonly idleTimeoutMs: number;
  readonly signal: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function requestOnce(input: HttpRequestInput, url: URL): Promise<IncomingMessage> {
  return new Promise<IncomingMessage>((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) {
      reject(new HordeError('executor.http_bad_url', `unsupported URL scheme ${url.protocol}`));
      return;
    }
    // agent: false → one connection per exchange, closed afterwards: the executor makes a handful of requests and
    // a pooled idle socket would outlive the job (and keep a test process alive).
    const request = client.request(url, { method: input.method, headers: input.headers, signal: input.signal, agent: false });
    request.setTimeout(input.idleTimeoutMs, () => {
      request.destroy(new HttpTransportError(`no activity for ${input.idleTimeoutMs} ms`));
    });
    request.on('error', (error) => {
      reject(input.signal.aborted ? error : new HttpTransportError(error.message, { cause: error }));
    });
    request.on('response', (response) => {
      // The idle timer keeps guarding the body: a stalled response destroys the request and errors the response.
      resolve(response);
    });
    const body = input.body?.();
    if (body === undefined) request.end();
    else if (Buffer.isBuffer(body)) request.end(body);
    else {
      body.on('error', (error) => request.destroy(error));
      body.pipe(request);
    }
  });
}

/**
 * One HTTP exchange over node's `http`/`https` (no global agent pooling surprises, exact control of Content-Length,
 * abortable, idle-timed). Redirects are followed for GET; the caller must consume or destroy the returned body.
 *
 * @example
 * ```ts
 * const res = await httpRequest({ method: 'GET', url, maxRedirects: 20, idleTimeoutMs: 5000, signal });
 * ```
 */
export async function httpRequest(input: HttpRequestInput): Promise<IncomingMessage> {
  let url: URL;
  try {
    url = new URL(input.url);
  } catch (error) {
    throw new HordeError('executor.http_bad_url', `invalid URL`, { cause: error });
  }
  for (let redirects = 0; ; redirects++) {
    const response = await requestOnce(input, url);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (input.method !== 'GET' || !REDIRECTS.has(status) || location === undefined || redirects >= input.maxRedirects) {
      return response;
    }
    response.resume();
    url = new URL(location, url);
  }
}

/** Reads a response body as text, failing (and destroying the socket) past `maxBytes`. */
export async function readBodyCapped(response: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of response) {
      const buffer = chunk as Buffer;
      total += buffer.length;
      if (total > maxBytes) {
        response.destroy();
        return undefined;
      }
      chunks.push(buffer);
    }
  } catch (error) {
    throw new HttpTransportError(`response body broken: ${(error as Error).message}`, { cause: error });
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Response headers as upstream's `dict(response.headers)`: lower-case names, repeated values joined with ", ". */
export function flattenHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
