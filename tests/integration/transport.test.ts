import { createTransport, type TransportActor } from '../../src/transport/transport';
import type { TransportEmitted, TransportInput } from '../../src/transport/transport.machine';
import type { TransportOptions } from '../../src/transport/options';
import { FaultProxy } from '../support/faultProxy';
import { TransportTestServer } from '../support/transportTestServer';
import { testCodec, type TestMessage } from '../support/transportFakeSocket';
import { transportMetricsUnderTest } from '../support/transportMetricsReader';

/** Fast timings so that real-socket tests take milliseconds, not the production seconds. */
const FAST: Partial<TransportOptions> = {
  reconnectBaseMs: 20,
  reconnectCapMs: 100,
  connectTimeoutMs: 1000,
  pingIntervalMs: 0,
  minUptimeMs: 200,
  closeTimeoutMs: 1000,
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: { reliable?: boolean } = {}): Promise<TransportTestServer> {
  const s = await TransportTestServer.start(options);
  cleanups.push(() => s.close());
  return s;
}

async function proxyTo(target: TransportTestServer): Promise<FaultProxy> {
  const p = await FaultProxy.start({ targetPort: target.port });
  cleanups.push(() => p.close());
  return p;
}

function transport(url: string, options: Partial<TransportOptions> = {}, extra: Partial<TransportInput> = {}) {
  const actor: TransportActor = createTransport({ url, codec: testCodec, ...extra, options: { ...FAST, ...options } });
  const events: TransportEmitted[] = [];
  actor.on('*', (e) => events.push(e));
  actor.start();
  cleanups.push(() => actor.stop());
  const of = <T extends TransportEmitted['type']>(type: T) =>
    events.filter((e): e is Extract<TransportEmitted, { type: T }> => e.type === type);
  const send = (n: number) => actor.send({ type: 'transport.send', message: { n } });
  const messages = () => of('transport.message').map((e) => (e.message as TestMessage).n);
  return { actor, events, of, send, messages };
}

/** Polls `condition` every 5 ms; rejects with `what` after `timeoutMs`. */
function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(check, 5);
    };
    check();
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ns = (texts: string[]) => texts.map((t) => (JSON.parse(t) as TestMessage).n);

describe('transport against a real ws server', () => {
  it('exchanges messages, passes upgrade headers, and reports undecodable frames', async () => {
    const s = await server();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const t = transport(s.url, {}, { headers: { traceparent } });
    await waitFor('open', () => t.of('transport.open').length === 1);
    t.send(1);
    t.send(2);
    await waitFor('server receives 2', () => s.received.length === 2);
    expect(ns(s.received)).toEqual([1, 2]);
    expect(s.upgrades[0]?.traceparent).toBe(traceparent);
    s.send('{"n":9}');
    s.send('garbage');
    await waitFor('message and decode error', () => t.of('transport.decode_error').length === 1);
    expect(t.messages()).toEqual([9]);
  });

  it('queues while the server is down and delivers in order once it is back on the same port', async () => {
    const s = await server();
    const t = transport(s.url);
    await waitFor('open', () => t.of('transport.open').length === 1);
    await s.kill();
    await waitFor('closed', () => t.of('transport.closed').length === 1);
    for (const n of range(1, 5)) t.send(n);
    await waitFor('a failed reconnect', () => t.of('transport.reconnecting').length >= 2);
    await s.start();
    await waitFor('delivery after restart', () => s.received.length === 5);
    expect(ns(s.received)).toEqual(range(1, 5));
    expect(t.of('transport.open')).toHaveLength(2);
  });

  it('keeps the outbox bounded while disconnected, dropping the oldest', async () => {
    const s = await server();
    const t = transport(s.url, { outboxCapacity: 3, outboxOverflow: 'drop_oldest' });
    await waitFor('open', () => t.of('transport.open').length === 1);
    await s.kill();
    await waitFor('closed', () => t.of('transport.closed').length === 1);
    for (const n of range(1, 10)) t.send(n);
    expect(t.actor.getSnapshot().context.outbox.size).toBe(3);
    await s.start();
    await waitFor('delivery after restart', () => s.received.length === 3);
    expect(ns(s.received)).toEqual([8, 9, 10]);
    expect(t.actor.getSnapshot().context.stats.dropped).toBe(7);
  });

  it('reports refused connections and gives up after maxReconnectAttempts', async () => {
    const s = await server();
    const p = await proxyTo(s);
    await p.refuse(true);
    const t = transport(`ws://127.0.0.1:${p.port}/link`, { maxReconnectAttempts: 2 });
    await waitFor('stopped', () => t.of('transport.stopped').length === 1);
    expect(t.of('transport.reconnecting').map((e) => e.cause)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
    expect(t.actor.getSnapshot().output?.reason).toBe('gave_up');
    expect(t.of('transport.gave_up')[0]!.error.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('detects a blackholed connection by its heartbeat, times out attempts, and recovers when healed', async () => {
    const s = await server();
    const p = await proxyTo(s);
    const t = transport(`ws://127.0.0.1:${p.port}/link`, { pingIntervalMs: 100, pongTimeoutMs: 100, connectTimeoutMs: 200 });
    await waitFor('open', () => t.of('transport.open').length === 1);
    p.blackhole(true);
    await waitFor('heartbeat miss', () => t.of('transport.closed').length === 1);
    expect(t.of('transport.closed')[0]).toEqual({ type: 'transport.closed', code: 1006, reason: 'heartbeat timeout' });
    await waitFor('a timed-out attempt', () =>
      t.of('transport.reconnecting').some((e) => e.cause === 'transport.connect_timeout'),
    );
    await p.heal();
    await waitFor('open again', () => t.of('transport.open').length === 2);
    t.send(1);
    await waitFor('delivery', () => s.received.length === 1);
  });

  it('delivers intact and in order through latency, jitter and sliced TCP segments', async () => {
    const s = await server();
    const p = await proxyTo(s);
    p.latency(15, 10);
    p.slice(7, 1);
    const t = transport(`ws://127.0.0.1:${p.port}/link`);
    await waitFor('open', () => t.of('transport.open').length === 1);
    for (const n of range(1, 30)) t.send(n);
    for (const n of range(101, 130)) s.send(JSON.stringify({ n }));
    await waitFor('both directions', () => s.received.length === 30 && t.messages().length === 30, 15_000);
    expect(ns(s.received)).toEqual(range(1, 30));
    expect(t.messages()).toEqual(range(101, 130));
  });

  it('holds messages back while the peer stalls (TCP backpressure) and delivers them all in order', async () => {
    const s = await server();
    const t = transport(s.url, { sendHighWaterMarkBytes: 64 * 1024 });
    await waitFor('open', () => t.of('transport.open').length === 1);
    s.pauseReading();
    const pad = 'p'.repeat(256 * 1024);
    let peakQueued = 0;
    for (const n of range(1, 40)) {
      t.actor.send({ type: 'transport.send', message: { n, pad } });
      // let the socket write (and report congestion) between sends, as a real producer's event loop would
      await new Promise((resolve) => setImmediate(resolve));
      peakQueued = Math.max(peakQueued, t.actor.getSnapshot().context.outbox.size);
    }
    expect(peakQueued).toBeGreaterThan(0);
    s.resumeReading();
    await waitFor('all delivered', () => s.received.length === 40, 15_000);
    expect(ns(s.received)).toEqual(range(1, 40));
    expect(t.actor.getSnapshot().context.stats.dropped).toBe(0);
  });

  it('keeps horde_transport_open_connections in step with real sockets', async () => {
    const s = await server();
    const { metrics, value, shutdown } = transportMetricsUnderTest();
    cleanups.push(shutdown);
    const t = transport(s.url, {}, { metrics });
    await waitFor('open', () => t.of('transport.open').length === 1);
    expect(await value('horde_transport_open_connections')).toBe(1);
    await s.kill();
    await waitFor('closed', () => t.of('transport.closed').length === 1);
    expect(await value('horde_transport_open_connections')).toBe(0);
    await s.start();
    await waitFor('open again', () => t.of('transport.open').length === 2);
    expect(await value('horde_transport_open_connections')).toBe(1);
    t.actor.stop();
    expect(await value('horde_transport_open_connections')).toBe(0);
    expect(await value('horde_transport_connects', { outcome: 'success' })).toBe(2);
  });

  it('leaves no socket behind when stopped mid-handshake', async () => {
    const s = await server();
    const p = await proxyTo(s);
    p.blackhole(true);
    const t = transport(`ws://127.0.0.1:${p.port}/link`);
    await waitFor('a TCP connection through the proxy', () => p.connectionCount === 1);
    expect(t.actor.getSnapshot().value).toEqual({ online: 'connecting' });
    t.actor.stop();
    await waitFor('the socket to be gone', () => p.connectionCount === 0);
  });

  it('closes gracefully with a close handshake and stops', async () => {
    const s = await server();
    const t = transport(s.url);
    await waitFor('open', () => t.of('transport.open').length === 1);
    t.actor.send({ type: 'transport.close', code: 4001, reason: 'done' });
    await waitFor('stopped', () => t.of('transport.stopped').length === 1);
    expect(t.of('transport.closed')).toEqual([{ type: 'transport.closed', code: 4001, reason: 'done' }]);
    expect(t.actor.getSnapshot().status).toBe('done');
  });
});

describe('transport in reliable mode against a real ws server', () => {
  it('loses and duplicates nothing, both ways, across server crashes and connection resets', async () => {
    const s = await server({ reliable: true });
    const p = await proxyTo(s);
    const t = transport(`ws://127.0.0.1:${p.port}/link`, { reliable: true });
    await waitFor('open', () => t.of('transport.open').length === 1);
    expect(t.of('transport.open')[0]).toEqual({ type: 'transport.open', reliable: true });
    let n = 0;
    const burst = (count: number) => {
      for (let i = 0; i < count; i++) {
        n++;
        t.send(n);
        s.send(JSON.stringify({ n: 1000 + n }));
      }
    };
    for (let round = 0; round < 4; round++) {
      burst(40);
      if (round % 2 === 0) {
        await s.kill();
        burst(10);
        await s.start();
      } else {
        p.reset();
        burst(10);
      }
      await waitFor('reconnected', () => t.of('transport.open').length === round + 2, 10_000);
    }
    burst(20);
    await waitFor('everything delivered', () => s.received.length >= n && t.messages().length >= n, 15_000);
    // let late duplicates (if any) arrive before judging
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(ns(s.received)).toEqual(range(1, n));
    expect(t.messages()).toEqual(range(1001, 1000 + n));
    expect(t.of('transport.open').every((e) => e.reliable)).toBe(true);
  });

  it('falls back to plain frames against a server that does not answer the reliable header', async () => {
    const s = await server({ reliable: false });
    const t = transport(s.url, { reliable: true });
    await waitFor('open', () => t.of('transport.open').length === 1);
    t.send(1);
    s.send('{"n":2}');
    await waitFor('both ways', () => s.received.length === 1 && t.messages().length === 1);
    expect(s.received).toEqual(['{"n":1}']);
    expect(t.messages()).toEqual([2]);
    expect(s.upgrades[0]?.['x-horde-reliable']).toBe('1');
    expect(t.of('transport.open')).toEqual([{ type: 'transport.open', reliable: false }]);
  });

  it('closes only after the server acknowledged everything', async () => {
    const s = await server({ reliable: true });
    const p = await proxyTo(s);
    p.latency(50);
    const t = transport(`ws://127.0.0.1:${p.port}/link`, { reliable: true });
    await waitFor('open', () => t.of('transport.open').length === 1);
    for (const n of range(1, 20)) t.send(n);
    t.actor.send({ type: 'transport.close' });
    await waitFor('stopped', () => t.of('transport.stopped').length === 1);
    expect(ns(s.received)).toEqual(range(1, 20));
    expect(t.actor.getSnapshot().output?.stats.dropped).toBe(0);
  });
});
