import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import WebSocket, { WebSocketServer } from 'ws';
import { createActor, fromCallback, fromPromise, setup, waitFor, type AnyActor } from 'xstate';
import { respondJson } from '../../src/http/router';
import { createActorBridge, type ActorBridge } from '../../src/telemetry/actor-bridge';
import { healthRoutes } from '../../src/telemetry/health';
import { hordeMeter } from '../../src/telemetry/meter';
import { setupTelemetry, type TelemetryHandle } from '../../src/telemetry/setup';
import {
  captureTraceCarrier,
  extractTraceContext,
  injectTraceHeaders,
  startChildSpan,
  type TraceCarrier,
} from '../../src/telemetry/trace-context';
import { HordeError } from '../../src/util/errors';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (enough of it for these tests). */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (m === null) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parsePrometheus(await res.text());
}

function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

const pinger = setup({ types: { events: {} as { type: 'pinger.ping' } } }).createMachine({
  id: 'pinger',
  initial: 'up',
  states: {
    // answering pings
    up: { on: { 'pinger.ping': {} } },
  },
});

describe('/metrics', () => {
  let telemetry: TelemetryHandle;
  let bridge: ActorBridge | undefined;
  const actors: AnyActor[] = [];

  afterEach(async () => {
    for (const a of actors.splice(0)) a.stop();
    bridge?.dispose();
    bridge = undefined;
    await telemetry.shutdown();
  });

  it('serves counters on its own loopback port and shows them increment', async () => {
    telemetry = await setupTelemetry({ serviceName: 'horde-test', role: 'executor', metricsServer: { port: 0 } });
    const url = `${telemetry.metricsServer!.url}/metrics`;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const pings = hordeMeter().createCounter('horde_test_pings', { description: 'pings' });

    pings.add(1, { peer: 'miner' });
    expect(sampleValue(await scrape(url), 'horde_test_pings_total', { peer: 'miner' })).toBe(1);
    pings.add(2, { peer: 'miner' });
    const samples = await scrape(url);
    expect(sampleValue(samples, 'horde_test_pings_total', { peer: 'miner' })).toBe(3);
    expect(sampleValue(samples, 'target_info', { service_name: 'horde-test', horde_role: 'executor' })).toBe(1);
  });

  it('exposes the actor bridge series when mounted on the role own server', async () => {
    telemetry = await setupTelemetry({ serviceName: 'horde-test', role: 'miner' });
    bridge = createActorBridge();
    const root = createActor(pinger, { inspect: bridge.inspect }).start();
    actors.push(root);
    for (let i = 0; i < 5; i += 1) root.send({ type: 'pinger.ping' });

    const server: Server = createServer((req, res) => {
      if (!telemetry.router.route(req, res)) respondJson(res, 404, { error: 'not_found' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const samples = await scrape(`${base}/metrics`);
      expect(sampleValue(samples, 'horde_actor_events_total', { kind: 'pinger', event: 'pinger.ping' })).toBe(5);
      expect(sampleValue(samples, 'horde_actor_started_total', { kind: 'pinger' })).toBe(1);
      expect(sampleValue(samples, 'horde_actor_live', { kind: 'pinger' })).toBe(1);
      expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

class RoleCrashedError extends HordeError {
  constructor() {
    super('role.crashed', 'the role crashed');
  }
}

const roleRoot = setup({ types: { events: {} as { type: 'role.ready' } | { type: 'role.crash' } } }).createMachine({
  id: 'role',
  initial: 'starting',
  states: {
    // binding ports, loading state: alive but not ready
    starting: { on: { 'role.ready': 'serving' } },
    // taking work
    serving: {
      tags: ['ready'],
      on: {
        'role.crash': {
          actions: () => {
            throw new RoleCrashedError();
          },
        },
      },
    },
  },
});

describe('/healthz and /readyz', () => {
  let telemetry: TelemetryHandle;
  beforeEach(async () => {
    telemetry = await setupTelemetry({ serviceName: 'horde-test', role: 'miner', metricsServer: { port: 0 } });
  });
  afterEach(() => telemetry.shutdown());

  async function probe(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${telemetry.metricsServer!.url}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("flip with the root actor's state", async () => {
    const root = createActor(roleRoot);
    const errors: unknown[] = [];
    root.subscribe({ error: (e) => errors.push(e) });
    telemetry.router.use(healthRoutes(root));
    root.start();

    expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok', actor: 'active', state: 'starting' } });
    expect(await probe('/readyz')).toEqual({
      status: 503,
      body: { status: 'unavailable', actor: 'active', state: 'starting' },
    });

    root.send({ type: 'role.ready' });
    expect((await probe('/healthz')).status).toBe(200);
    expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ok', actor: 'active', state: 'serving' } });

    root.send({ type: 'role.crash' });
    expect(errors).toHaveLength(1);
    expect(await probe('/healthz')).toEqual({
      status: 503,
      body: { status: 'unavailable', actor: 'error', state: 'serving', error: 'role.crashed' },
    });
    expect((await probe('/readyz')).status).toBe(503);
  });

  it('reports a stopped root as down, and a missing one too', async () => {
    const holder: { current?: AnyActor } = {};
    telemetry.router.use(healthRoutes(() => holder.current));
    expect(await probe('/healthz')).toEqual({ status: 503, body: { status: 'unavailable', actor: 'missing', state: null } });
    const root = createActor(roleRoot).start();
    holder.current = root;
    expect((await probe('/healthz')).status).toBe(200);
    root.stop();
    expect(await probe('/healthz')).toMatchObject({ status: 503, body: { actor: 'stopped' } });
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const root = createActor(roleRoot).start();
    telemetry.router.use(healthRoutes(root));
    const head = await fetch(`${telemetry.metricsServer!.url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${telemetry.metricsServer!.url}/healthz`, { method: 'POST' })).status).toBe(405);
    root.stop();
  });
});

describe('trace context across a per-job WebSocket', () => {
  let telemetry: TelemetryHandle;
  let wss: WebSocketServer;

  beforeEach(async () => {
    telemetry = await setupTelemetry({ serviceName: 'horde-test', role: 'validator', inMemorySpans: true });
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
  });
  afterEach(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    await telemetry.shutdown();
  });

  it('continues the trace from the upgrade headers, without adding fields to messages', async () => {
    const received: unknown[] = [];
    // The miner side: one span per job connection, parented by the upgrade request's traceparent.
    const minerSide = fromCallback<{ type: 'miner.served' }, { server: WebSocketServer }>(({ input, sendBack }) => {
      const onConnection = (socket: WebSocket, req: import('node:http').IncomingMessage): void => {
        const { span } = startChildSpan('miner.job.serve', extractTraceContext(req.headers), { kind: SpanKind.SERVER });
        socket.on('message', (data: Buffer) => {
          received.push(JSON.parse(data.toString('utf8')));
          socket.send(JSON.stringify({ message_type: 'V0AcceptJobRequest', job_uuid: 'j-1' }));
          span.end();
          sendBack({ type: 'miner.served' });
        });
      };
      input.server.on('connection', onConnection);
      return () => input.server.off('connection', onConnection);
    });
    // The validator side: dials the miner for one job, in a span that is a child of the job's carried context.
    const validatorSide = fromPromise<void, { url: string; trace: TraceCarrier }>(async ({ input, signal }) => {
      const { span, ctx } = startChildSpan('validator.job.dial', input.trace, { kind: SpanKind.CLIENT });
      const socket = new WebSocket(input.url, { headers: injectTraceHeaders({}, ctx) });
      try {
        await new Promise<void>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('aborted')));
          socket.once('error', reject);
          socket.once('open', () =>
            socket.send(JSON.stringify({ message_type: 'V0InitialJobRequest', job_uuid: 'j-1' })),
          );
          socket.once('message', () => resolve());
        });
      } finally {
        socket.terminate();
        span.end();
      }
    });
    const job = setup({
      types: {
        input: {} as { url: string; trace: TraceCarrier; server: WebSocketServer },
        context: {} as { url: string; trace: TraceCarrier; server: WebSocketServer },
      },
      actors: { minerSide, validatorSide },
    }).createMachine({
      id: 'job',
      type: 'parallel',
      states: {
        miner: {
          initial: 'serving',
          states: {
            // accepting the job connection
            serving: {
              invoke: { src: 'minerSide', input: ({ context }) => context },
              on: { 'miner.served': 'served' },
            },
            // answered the validator
            served: { type: 'final' },
          },
        },
        validator: {
          initial: 'dialing',
          states: {
            // connecting and sending the job request
            dialing: { invoke: { src: 'validatorSide', input: ({ context }) => context, onDone: 'answered' } },
            // got the miner's answer
            answered: { type: 'final' },
          },
        },
      },
      context: ({ input }) => input,
    });

    // The facilitator's span, as the job would carry it from the REST request.
    const submit = trace.getTracer('test').startSpan('facilitator.job.submit');
    const carried = captureTraceCarrier(trace.setSpan(context.active(), submit));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const actor = createActor(job, { input: { url, trace: carried, server: wss } }).start();
    await waitFor(actor, (s) => s.status === 'done');
    submit.end();

    const spans = telemetry.spans!.getFinishedSpans();
    const dial = spans.find((s) => s.name === 'validator.job.dial')!;
    const serve = spans.find((s) => s.name === 'miner.job.serve')!;
    expect(dial.spanContext().traceId).toBe(submit.spanContext().traceId);
    expect(serve.spanContext().traceId).toBe(submit.spanContext().traceId);
    expect(dial.parentSpanContext?.spanId).toBe(submit.spanContext().spanId);
    expect(serve.parentSpanContext?.spanId).toBe(dial.spanContext().spanId);
    expect(serve.parentSpanContext?.isRemote).toBe(true);
    expect(received).toEqual([{ message_type: 'V0InitialJobRequest', job_uuid: 'j-1' }]);
  });
});
