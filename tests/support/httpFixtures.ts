import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server (127.0.0.1 only) for volume downloads and output uploads: routes are plain handlers, every
 * request is recorded with its body, and helpers cover what the executor tests need (ranges, cut transfers,
 * redirects, status sequences, multipart parsing, a port nobody listens on).
 */

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

export type FixtureHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface HttpFixture {
  readonly baseUrl: string;
  readonly requests: RecordedRequest[];
  /** Requests being handled right now, and the most seen at once. */
  readonly inFlight: { current: number; max: number };
  on(method: string, path: string, handler: FixtureHandler): void;
  url(path: string): string;
  close(): Promise<void>;
}

export async function startHttpFixture(): Promise<HttpFixture> {
  const routes = new Map<string, FixtureHandler>();
  const requests: RecordedRequest[] = [];
  const inFlight = { current: 0, max: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
      const handler = routes.get(`${req.method} ${path}`);
      if (!handler) {
        res.writeHead(404).end('no route');
        return;
      }
      inFlight.current++;
      inFlight.max = Math.max(inFlight.max, inFlight.current);
      res.on('close', () => inFlight.current--);
      Promise.resolve(handler(req, res, body)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    requests,
    inFlight,
    on: (method, path, handler) => {
      routes.set(`${method} ${path}`, handler);
    },
    url: (path) => `${baseUrl}${path}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Serves `data` with Range support. `cutFirstAfterBytes`: the first full transfer sends that many bytes of a
 * Content-Length response and then drops the connection (a broken download).
 */
export function serveBytes(data: Buffer, options: { cutFirstAfterBytes?: number; ignoreRange?: boolean } = {}): FixtureHandler {
  let served = 0;
  return (req, res) => {
    served++;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !options.ignoreRange) {
      const start = Number(range[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': data.length - start,
        'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
        'accept-ranges': 'bytes',
      });
      res.end(data.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': data.length, 'accept-ranges': 'bytes' });
    if (served === 1 && options.cutFirstAfterBytes !== undefined) {
      res.write(data.subarray(0, options.cutFirstAfterBytes), () => {
        // Give the bytes a moment to leave before the connection breaks.
        setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(data);
  };
}

/** Answers with the given statuses in turn (the last one repeats), recording nothing extra. */
export function statusSequence(statuses: readonly number[], body = 'ok', headers: Record<string, string> = {}): FixtureHandler {
  let call = 0;
  return (_req, res) => {
    const status = statuses[Math.min(call, statuses.length - 1)]!;
    call++;
    res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(status < 300 ? body : `failure ${status}`);
  };
}

export function redirectTo(location: string, status = 302): FixtureHandler {
  return (_req, res) => {
    res.writeHead(status, { location }).end();
  };
}

export interface MultipartPart {
  readonly name: string;
  readonly filename?: string;
  readonly contentType?: string;
  readonly data: Buffer;
}

/** Parses a multipart/form-data body (test-sized bodies only: it works on a Buffer). */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  const boundary = /boundary=([^;]+)/.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`not multipart: ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let position = body.indexOf(delimiter);
  while (position >= 0) {
    const start = position + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw new Error('unterminated multipart body');
    const part = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next one
    const headerEnd = part.indexOf('\r\n\r\n');
    const headerText = part.subarray(0, headerEnd).toString('utf8');
    const disposition = /content-disposition: form-data; name="([^"]*)"(?:; filename="([^"]*)")?/i.exec(headerText);
    if (!disposition) throw new Error(`part without a name: ${headerText}`);
    parts.push({
      name: disposition[1]!,
      filename: disposition[2],
      contentType: /content-type: (.*)/i.exec(headerText)?.[1]?.trim(),
      data: Buffer.from(part.subarray(headerEnd + 4)),
    });
    position = next;
  }
  return parts;
}

/** A 127.0.0.1 URL where nothing listens (the port was bound, then released). */
export async function unreachableUrl(path = '/volume.zip'): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
