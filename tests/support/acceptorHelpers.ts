import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import WebSocket from 'ws';
import { assign, enqueueActions, sendTo, setup } from 'xstate';
import type { FrameCodec } from '../../src/protocol/codec.types';
import {
  closeEventFor,
  createAcceptor,
  createAcceptorMetrics,
  type Acceptor,
  type AcceptorMetrics,
  type AcceptorOptions,
  type ConnectionBehaviourInput,
  type ConnectionHandle,
  type ConnectionRoleEvent,
  type RouteSpec,
} from '../../src/transport/acceptor';
import { err, ok } from '../../src/util/result';

export type Json = Record<string, unknown>;

/** A trivial JSON codec: any JSON object in, any object out. */
export const jsonCodec: FrameCodec<Json, Json> = {
  decode(text) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return err({ code: 'frame.malformed_json', message: 'not a JSON object' });
      }
      return ok(value as Json);
    } catch (error) {
      return err({ code: 'frame.malformed_json', message: (error as Error).message });
    }
  },
  encode(message) {
    return JSON.stringify(message);
  },
};

class CollectingReader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

function matches(attributes: Attributes, wanted: Attributes): boolean {
  return Object.entries(wanted).every(([k, v]) => attributes[k] === v);
}

/** Real OpenTelemetry instruments read on demand: the sum of a counter's points matching some attributes. */
export interface TestMetrics {
  readonly metrics: AcceptorMetrics;
  /** Sum of a counter/up-down counter over the points whose attributes include `wanted`. */
  sum(name: string, wanted?: Attributes): Promise<number>;
  /** Number of recordings of a histogram matching `wanted`. */
  histogramCount(name: string, wanted?: Attributes): Promise<number>;
  shutdown(): Promise<void>;
}

export function testMetrics(): TestMetrics {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = createAcceptorMetrics(provider.getMeter('acceptor-test'));
  const points = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return metric;
  };
  return {
    metrics,
    async sum(name, wanted = {}) {
      const metric = await points(name);
      if (metric === undefined || metric.dataPointType === DataPointType.HISTOGRAM) return 0;
      return metric.dataPoints
        .filter((p) => matches(p.attributes, wanted))
        .reduce((total, p) => total + (p.value as number), 0);
    },
    async histogramCount(name, wanted = {}) {
      const metric = await points(name);
      if (metric === undefined || metric.dataPointType !== DataPointType.HISTOGRAM) return 0;
      return metric.dataPoints.filter((p) => matches(p.attributes, wanted)).reduce((n, p) => n + p.value.count, 0);
    },
    shutdown: () => provider.shutdown(),
  };
}

/**
 * A role for tests, speaking JSON:
 * - `{message_type:'auth', identity}` → authenticates, answers `auth_ok`;
 * - `{message_type:'auth_bad_signature'}` → closes 3000; `{message_type:'auth_unknown', hotkey}` → closes 3001;
 * - `{message_type:'finish'}` → the role reaches its final state (the connection closes 1000);
 * - `{message_type:'crash'}` → the role fails (1011);
 * - anything else → `{message_type:'echo', n, payload, params}` (n = messages delivered so far);
 * - a decode error → `GenericError` "Malformed message: …" (upstream's miner), connection kept;
 * - with the upgrade header `x-test-greet: 1`, it sends `{message_type:'greeting'}` as soon as it starts.
 */
export const echoRole = setup({
  types: {
    context: {} as {
      connection: ConnectionHandle<Json>;
      params: ConnectionBehaviourInput['params'];
      delivered: number;
      greet: boolean;
    },
    input: {} as ConnectionBehaviourInput<Json>,
    events: {} as ConnectionRoleEvent<Json>,
  },
  actions: {
    crash: () => {
      throw new Error('role crashed on purpose');
    },
  },
}).createMachine({
  context: ({ input }) => ({
    connection: input.connection,
    params: input.params,
    delivered: 0,
    greet: input.headers['x-test-greet'] === '1',
  }),
  entry: enqueueActions(({ context, enqueue }) => {
    if (context.greet) enqueue.sendTo(context.connection, { type: 'connection.send', message: { message_type: 'greeting' } });
  }),
  initial: 'running',
  states: {
    running: {
      on: {
        'connection.message': [
          {
            guard: ({ event }) => event.message.message_type === 'auth',
            actions: [
              sendTo(({ context }) => context.connection, ({ event }) => ({
                type: 'connection.authenticated' as const,
                identity: String((event as { message: Json }).message.identity),
              })),
              sendTo(({ context }) => context.connection, {
                type: 'connection.send' as const,
                message: { message_type: 'auth_ok' },
              }),
            ],
          },
          {
            guard: ({ event }) => event.message.message_type === 'auth_bad_signature',
            actions: sendTo(({ context }) => context.connection, closeEventFor('auth.signature_invalid')),
          },
          {
            guard: ({ event }) => event.message.message_type === 'auth_unknown',
            actions: sendTo(
              ({ context }) => context.connection,
              ({ event }) =>
                closeEventFor(
                  'auth.validator_not_found',
                  `Unknown validator: ${String((event as { message: Json }).message.hotkey)}`,
                ),
            ),
          },
          { guard: ({ event }) => event.message.message_type === 'finish', target: 'finished' },
          { guard: ({ event }) => event.message.message_type === 'crash', actions: 'crash' },
          {
            actions: [
              assign({ delivered: ({ context }) => context.delivered + 1 }),
              sendTo(
                ({ context }) => context.connection,
                ({ context, event }) => ({
                  type: 'connection.send' as const,
                  message: {
                    message_type: 'echo',
                    n: context.delivered,
                    payload: (event as { message: Json }).message,
                    params: context.params,
                  },
                }),
              ),
            ],
          },
        ],
        'connection.decode_error': {
          actions: sendTo(
            ({ context }) => context.connection,
            ({ event }) => ({
              type: 'connection.send' as const,
              message: {
                message_type: 'GenericError',
                details: `Malformed message: ${(event as { error: { message: string } }).error.message}`,
              },
            }),
          ),
        },
      },
    },
    finished: { type: 'final' },
  },
});

export function route(overrides: Partial<RouteSpec<Json, Json>> = {}): RouteSpec<Json, Json> {
  return {
    name: 'validator',
    path: '/v0.1/validator_interface/:validator_hotkey',
    codec: jsonCodec,
    behaviour: echoRole,
    ...overrides,
  };
}

export interface TestServer {
  readonly server: http.Server;
  readonly acceptor: Acceptor;
  readonly port: number;
  readonly telemetry: TestMetrics;
  url(path: string): string;
  /** Closes the acceptor (if not yet), every client socket left, and the server. */
  stop(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 with an acceptor; plain HTTP requests get 200 "http ok". */
export async function startTestServer(
  routes: RouteSpec<Json, Json>[],
  options: Partial<Omit<AcceptorOptions, 'server' | 'routes'>> = {},
): Promise<TestServer> {
  const server = http.createServer((_req, res) => res.end('http ok'));
  const telemetry = testMetrics();
  const acceptor = createAcceptor({ server, routes, metrics: telemetry.metrics, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    acceptor,
    port,
    telemetry,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    async stop() {
      await acceptor.close({ graceMs: 200 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await telemetry.shutdown();
    },
  };
}

/** A ws client that records what it receives and how it closed. */
export interface TestClient {
  readonly ws: WebSocket;
  readonly received: string[];
  /** Headers of the server's 101 response. */
  readonly upgradeHeaders: http.IncomingHttpHeaders;
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: Json | string): void;
  /** Resolves with the next frame (or one already received and not yet taken). */
  next(): Promise<string>;
  nextJson(): Promise<Json>;
}

export function connectClient(url: string, options: WebSocket.ClientOptions = {}): Promise<TestClient> {
  const ws = new WebSocket(url, options);
  let upgradeHeaders: http.IncomingHttpHeaders = {};
  ws.once('upgrade', (res) => (upgradeHeaders = res.headers));
  const received: string[] = [];
  let taken = 0;
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer) => {
    received.push(data.toString('utf8'));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString('utf8') });
      for (const w of waiters.splice(0)) w();
    });
  });
  const next = async (): Promise<string> => {
    while (received.length <= taken) {
      if (ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a frame');
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return received[taken++]!;
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        received,
        upgradeHeaders,
        closed,
        send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
        next,
        nextJson: async () => JSON.parse(await next()) as Json,
      }),
    );
    ws.once('error', reject);
  });
}

/** The HTTP status an upgrade attempt was refused with. */
export function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade unexpectedly succeeded'));
    });
    ws.on('error', () => undefined); // terminate() above reports an abort; the status is already known
  });
}

/**
 * A peer that completes the WebSocket handshake by hand and then reads nothing and answers nothing: no pongs, no
 * close frames. Resolves once the 101 arrived; `closed` resolves when the server drops the TCP connection.
 */
export async function silentPeer(port: number, path: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined); // the server resets it on purpose
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        if (head.startsWith('HTTP/1.1 101')) resolve();
        else reject(new Error(`handshake refused: ${head.split('\r\n')[0]}`));
      }
    };
    socket.on('data', onData);
  });
  // Keep reading (and discarding) so the server's pings and close frame do not back up.
  socket.on('data', () => undefined);
  return { socket, closed };
}

/** Polls `predicate` on the event loop until it holds (integration tests only; unit tests use SimulatedClock). */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
