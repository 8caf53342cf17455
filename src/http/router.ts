import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A request handler that may decline: it returns `true` when it answered the request and `false` when the path is
 * not its own, so that several small handlers (telemetry, receipts, the role's REST API) can share one server.
 */
export type Route = (req: IncomingMessage, res: ServerResponse) => boolean;

/** A plain handler for one path (the router has already matched it). */
export type PathHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Path of a request URL without its query string. */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Writes a JSON body with the right headers. */
export function respondJson(res: ServerResponse, statusCode: number, body: unknown, headOnly = false): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(headOnly ? undefined : text);
}

export interface Router {
  /** Answers GET and HEAD on `path` (HEAD gets the same status and headers, no body). */
  get(path: string, handler: PathHandler): Router;
  /** Adds a whole `Route` (tried in registration order after the exact paths). */
  use(route: Route): Router;
  /** The router as a `Route`: `true` when some handler answered. */
  readonly route: Route;
  /** The router as a server handler: unknown paths get a JSON 404, wrong methods a 405. */
  readonly handler: PathHandler;
}

/**
 * A tiny exact-path router. Roles mount it (or its `route`) on their own `http.Server`; a role without a server
 * gets one from {@link startHttpServer}.
 *
 * @example
 * ```ts
 * const router = createRouter().get('/version', (_req, res) => respondJson(res, 200, { version }))
 *   .use(telemetryRoutes(telemetry, rootActor));
 * http.createServer(router.handler).listen(8000, '127.0.0.1');
 * ```
 */
export function createRouter(): Router {
  const paths = new Map<string, PathHandler>();
  const routes: Route[] = [];

  const route: Route = (req, res) => {
    const handler = paths.get(requestPath(req));
    if (handler !== undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        respondJson(res, 405, { error: 'method_not_allowed' });
        return true;
      }
      handler(req, res);
      return true;
    }
    for (const r of routes) if (r(req, res)) return true;
    return false;
  };

  const router: Router = {
    get(path, handler) {
      paths.set(path, handler);
      return router;
    },
    use(r) {
      routes.push(r);
      return router;
    },
    route,
    handler: (req, res) => {
      if (!route(req, res)) respondJson(res, 404, { error: 'not_found', path: requestPath(req) });
    },
  };
  return router;
}

export interface HttpServerHandle {
  readonly server: Server;
  /** The bound port (useful with port 0). */
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** Stops accepting, drops idle and active keep-alive connections, and resolves once the server is closed. */
  close(): Promise<void>;
}

/**
 * Starts an `http.Server` on `host:port` (port 0 picks a free one) and resolves once it listens.
 *
 * @example
 * ```ts
 * const srv = await startHttpServer({ host: '127.0.0.1', port: 0, handler: createRouter().get('/x', h).handler });
 * await fetch(`${srv.url}/x`);
 * await srv.close();
 * ```
 */
export async function startHttpServer(options: {
  host: string;
  port: number;
  handler: PathHandler;
}): Promise<HttpServerHandle> {
  const server = createServer(options.handler);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    server,
    port,
    url: `http://${hostInUrl}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // A scraper's keep-alive connection would otherwise hold close() open until it times out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
