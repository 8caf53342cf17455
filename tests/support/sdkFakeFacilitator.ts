/**
 * A scripted facilitator REST server for SDK tests: real node:http on 127.0.0.1. Login and signature checks are
 * real (the SDK's signatures must verify); every other answer is scripted per test through `routes`.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signatureFromHeaders, verifyLoginSignature, verifyRequestBodySignature } from '../../src/crypto';
import type { JobJson, StatusHistoryEntry } from '../../src/sdk/facilitatorApi';
import type { JobStatus } from '../../src/protocol/enums';
import type { Timers } from '../../src/resilience/retry';

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** Whether the X-CH-* signature verified over the body (undefined when there was none). */
  readonly signatureValid: boolean | undefined;
}

/** Returns true when it answered; false lets the default handlers (nonce/login) or a 404 answer. */
export type Route = (request: SeenRequest, res: ServerResponse) => boolean | Promise<boolean>;

export interface FakeFacilitator {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** Tokens issued by /auth/login, in order. */
  readonly tokens: string[];
  route(route: Route): void;
  /** Every response socket still open (SSE): closed by close(). */
  close(): Promise<void>;
}

export async function startFakeFacilitator(options: { refuseLogin?: boolean } = {}): Promise<FakeFacilitator> {
  const requests: SeenRequest[] = [];
  const tokens: string[] = [];
  const routes: Route[] = [];
  let nonceCounter = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = Buffer.concat(chunks).toString('utf8');
        let signatureValid: boolean | undefined;
        if (req.headers['x-ch-signature'] !== undefined) {
          try {
            signatureValid = verifyRequestBodySignature(signatureFromHeaders(req.headers), JSON.parse(body)).ok;
          } catch {
            signatureValid = false;
          }
        }
        const seen: SeenRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body, signatureValid };
        requests.push(seen);
        for (const route of routes) if (await route(seen, res)) return;
        if (seen.path === '/auth/nonce') return json(res, 200, { nonce: `nonce-${++nonceCounter}` });
        if (seen.path === '/auth/login') {
          const login = JSON.parse(body) as Record<string, unknown>;
          if (options.refuseLogin === true || !verifyLoginSignature(login)) return json(res, 403, { detail: 'Hotkey is not whitelisted' });
          const token = `token-${tokens.length + 1}`;
          tokens.push(token);
          return json(res, 200, { token });
        }
        json(res, 404, { detail: 'Not found.' });
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    tokens,
    route: (route) => routes.push(route),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown): true {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  return true;
}

/** A status-history entry at second `second` of a fixed day. */
export function entry(status: JobStatus, second: number, metadata: StatusHistoryEntry['metadata'] = null): StatusHistoryEntry {
  return { status, metadata, created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString() };
}

const DISPLAY: Record<JobStatus, JobJson['status']> = {
  unknown: 'Unknown',
  sent: 'Sent',
  received: 'Received',
  accepted: 'Accepted',
  executor_ready: 'Executor Ready',
  streaming_ready: 'Streaming Ready',
  volumes_ready: 'Volumes Ready',
  execution_done: 'Execution Done',
  completed: 'Completed',
  rejected: 'Rejected',
  failed: 'Failed',
  horde_failed: 'Horde Failed',
};

/** A valid job JSON with the given history (stdout etc. from the last entry's miner_response). */
export function jobJson(uuid: string, history: StatusHistoryEntry[]): JobJson {
  const last = history[history.length - 1];
  const response = last?.metadata?.miner_response ?? null;
  return {
    uuid,
    executor_class: 'always_on.test',
    created_at: history[0]?.created_at ?? '2026-01-01T00:00:00.000Z',
    last_update: last?.created_at ?? '2026-01-01T00:00:00.000Z',
    status: DISPLAY[last?.status ?? 'unknown'],
    docker_image: 'horde-testjob:local',
    job_namespace: null,
    args: [],
    env: {},
    use_gpu: false,
    tag: '',
    stdout: response?.docker_process_stdout ?? '',
    stderr: response?.docker_process_stderr ?? '',
    volumes: [],
    uploads: [],
    artifacts: response?.artifacts ?? {},
    artifacts_dir: null,
    target_validator_hotkey: '5C4hrfjw9DjXZTzV3MwzrrAr9P1MJhSrvWGWqi1eSuyUpnhM',
    on_trusted_miner: false,
    upload_results: response?.upload_results ?? {},
    download_time_limit: 60,
    execution_time_limit: 60,
    streaming_start_time_limit: 5,
    upload_time_limit: 30,
    streaming_server_cert: null,
    streaming_server_address: null,
    streaming_server_port: null,
    status_history: history,
  };
}

/**
 * Timers whose short waits (retry back-off, polling) run at once and are recorded; long ones (request time-outs)
 * stay real so they never fire in a passing test.
 */
export function instantTimers(recorded: number[], longerThanMs = 10_000): Timers {
  return {
    setTimeout: (fn, ms) => {
      if (ms >= longerThanMs) return setTimeout(fn, ms);
      recorded.push(ms);
      return setImmediate(fn);
    },
    clearTimeout: (handle) => {
      clearTimeout(handle as NodeJS.Timeout);
      clearImmediate(handle as NodeJS.Immediate);
    },
  };
}
