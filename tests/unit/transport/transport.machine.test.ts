import { createActor, createMachine, SimulatedClock, type Actor, type AnyEventObject } from 'xstate';
import { seededRandom, type Random } from '../../../src/util/clock';
import { InvalidTransportOptionsError } from '../../../src/transport/errors';
import { transportMachine, type TransportEmitted, type TransportInput } from '../../../src/transport/transport.machine';
import { withFastSend } from '../../../src/transport/fastSend';
import type { TransportOptions } from '../../../src/transport/options';
import { fakeSockets, testCodec } from '../../support/transportFakeSocket';

const running: Actor<typeof transportMachine>[] = [];
afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

const variants = [
  ['plain machine', (m: typeof transportMachine) => m],
  ['machine with the fast send path', withFastSend],
] as const;

describe.each(variants)('%s', (_variant, wrap) => {
  function harness(options: Partial<TransportOptions> = {}, extra: Partial<TransportInput> = {}, random?: Random) {
    const fake = fakeSockets();
    const clock = new SimulatedClock();
    const machine = wrap(transportMachine).provide({ actors: { socket: fake.logic } });
    const actor = createActor(machine, {
      clock,
      input: { url: 'ws://peer.test/x', codec: testCodec, random: random ?? seededRandom(7), ...extra, options },
    });
    running.push(actor);
    const events: TransportEmitted[] = [];
    actor.on('*', (e) => events.push(e));
    const send = (n: number) => actor.send({ type: 'transport.send', message: { n } });
    const of = <T extends TransportEmitted['type']>(type: T) =>
      events.filter((e): e is Extract<TransportEmitted, { type: T }> => e.type === type);
    const state = () => actor.getSnapshot().value;
    return { fake, clock, actor, events, send, of, state };
  }

  describe('transport machine: connecting and delivering', () => {
    it('connects on start, reports transport.open and delivers decoded messages', () => {
      const h = harness();
      h.actor.start();
      expect(h.fake.sockets).toHaveLength(1);
      expect(h.state()).toEqual({ online: 'connecting' });
      h.fake.current.open();
      expect(h.of('transport.open')).toEqual([{ type: 'transport.open', reliable: false }]);
      h.fake.current.receive('{"n":1}', '{"n":2}');
      expect(h.of('transport.message').map((e) => e.message)).toEqual([{ n: 1 }, { n: 2 }]);
      expect(h.actor.getSnapshot().context.stats.received).toBe(2);
    });

    it('waits in idle until transport.connect when autoConnect is off, keeping sends', () => {
      const h = harness({}, { autoConnect: false });
      h.actor.start();
      h.send(1);
      expect(h.state()).toBe('idle');
      expect(h.fake.sockets).toHaveLength(0);
      h.actor.send({ type: 'transport.connect' });
      h.fake.current.open();
      expect(h.fake.current.sent).toEqual(['{"n":1}']);
    });

    it('turns undecodable frames into transport.decode_error events and stays open', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.open();
      h.fake.current.receive('not json', '{"x":1}', '{"n":3}');
      expect(h.of('transport.decode_error').map((e) => e.error.code)).toEqual([
        'frame.malformed_json',
        'frame.invalid_field',
      ]);
      expect(h.of('transport.message').map((e) => e.message)).toEqual([{ n: 3 }]);
      expect(h.state()).toEqual({ online: { open: 'waitingToPing' } });
      expect(h.actor.getSnapshot().context.stats.decodeErrors).toBe(2);
    });

    it('reports a message the codec cannot encode and sends nothing', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.open();
      const cyclic: { n: number; self?: unknown } = { n: 1 };
      cyclic.self = cyclic;
      h.actor.send({ type: 'transport.send', message: cyclic });
      expect(h.of('transport.encode_error')[0]?.error.code).toBe('transport.encode_failed');
      expect(h.fake.current.sent).toEqual([]);
    });

    it('sends what was queued while connecting first, in order, then new messages', () => {
      const h = harness();
      h.actor.start();
      h.send(1);
      h.send(2);
      h.fake.current.open();
      h.send(3);
      expect(h.fake.current.sent).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    });

    it('delivers its events to a parent machine as well as to subscribers', () => {
      const fake = fakeSockets();
      const received: AnyEventObject[] = [];
      const parent = createMachine({
        invoke: {
          id: 'link',
          src: wrap(transportMachine).provide({ actors: { socket: fake.logic } }),
          input: { url: 'ws://peer.test/x', codec: testCodec },
        },
        on: {
          'transport.open': { actions: ({ event }) => received.push(event) },
          'transport.message': { actions: ({ event }) => received.push(event) },
        },
      });
      const actor = createActor(parent).start();
      fake.current.open();
      fake.current.receive('{"n":5}');
      actor.stop();
      expect(received).toEqual([
        { type: 'transport.open', reliable: false },
        { type: 'transport.message', message: { n: 5 } },
      ]);
    });

    it('fails at start with every problem when the options cannot work', () => {
      const h = harness({ connectTimeoutMs: -1, outboxCapacity: 1.5, pingIntervalMs: Number.POSITIVE_INFINITY });
      const errors: unknown[] = [];
      h.actor.subscribe({ error: (e) => errors.push(e) });
      h.actor.start();
      expect(errors[0]).toBeInstanceOf(InvalidTransportOptionsError);
      expect((errors[0] as InvalidTransportOptionsError).problems).toHaveLength(3);
    });
  });

  describe('transport machine: outbox bound', () => {
    it('drop_oldest keeps the newest messages and counts the drops', () => {
      const h = harness({ outboxCapacity: 3, outboxOverflow: 'drop_oldest' });
      h.actor.start();
      for (let n = 1; n <= 5; n++) h.send(n);
      h.fake.current.open();
      expect(h.fake.current.sent).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
      expect(h.actor.getSnapshot().context.stats.dropped).toBe(2);
    });

    it('drop_newest keeps the oldest messages and counts the drops', () => {
      const h = harness({ outboxCapacity: 3, outboxOverflow: 'drop_newest' });
      h.actor.start();
      for (let n = 1; n <= 5; n++) h.send(n);
      h.fake.current.open();
      expect(h.fake.current.sent).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
      expect(h.actor.getSnapshot().context.stats.dropped).toBe(2);
    });

    it('fail stops the transport with reason outbox_overflow', () => {
      const h = harness({ outboxCapacity: 2, outboxOverflow: 'fail' });
      h.actor.start();
      h.send(1);
      h.send(2);
      h.send(3);
      const snapshot = h.actor.getSnapshot();
      expect(snapshot.status).toBe('done');
      expect(snapshot.output?.reason).toBe('outbox_overflow');
      expect(snapshot.output?.error?.message).toMatch(/outbox full/);
      expect(snapshot.output?.stats.dropped).toBe(3);
      expect(h.of('transport.stopped')).toEqual([{ type: 'transport.stopped', reason: 'outbox_overflow' }]);
      expect(h.fake.current.stopped).toBe(true);
    });

    it('queues while the socket is congested and flushes in order once drained', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.open();
      h.send(1);
      h.fake.current.congest();
      h.send(2);
      h.send(3);
      expect(h.fake.current.sent).toEqual(['{"n":1}']);
      h.fake.current.drain();
      h.send(4);
      expect(h.fake.current.sent).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    });
  });

  describe('transport machine: reconnecting', () => {
    it('abandons an attempt after connectTimeoutMs, disposes its socket and backs off', () => {
      const h = harness({ connectTimeoutMs: 1000 });
      h.actor.start();
      h.clock.increment(999);
      expect(h.state()).toEqual({ online: 'connecting' });
      h.clock.increment(1);
      expect(h.state()).toBe('backingOff');
      expect(h.fake.sockets[0]!.stopped).toBe(true);
      const [reconnecting] = h.of('transport.reconnecting');
      expect(reconnecting).toMatchObject({ attempt: 1, cause: 'transport.connect_timeout' });
    });

    it('grows the full-jitter ceiling per failure up to the cap', () => {
      const h = harness({ reconnectBaseMs: 100, reconnectCapMs: 1000 }, {}, () => 0.999);
      h.actor.start();
      for (let i = 0; i < 6; i++) {
        h.fake.current.close(1006, '', new Error('ECONNREFUSED'));
        const delayMs = h.of('transport.reconnecting').at(-1)!.delayMs;
        h.clock.increment(delayMs);
      }
      expect(h.of('transport.reconnecting').map((e) => [e.attempt, e.delayMs])).toEqual([
        [1, 99],
        [2, 199],
        [3, 399],
        [4, 799],
        [5, 999],
        [6, 999],
      ]);
    });

    it('waits the drawn delay before the next attempt, and transport.connect skips the wait', () => {
      const h = harness({ reconnectBaseMs: 1000 }, {}, () => 0.5);
      h.actor.start();
      h.fake.current.close();
      expect(h.of('transport.reconnecting')[0]!.delayMs).toBe(500);
      h.clock.increment(499);
      expect(h.fake.sockets).toHaveLength(1);
      h.clock.increment(1);
      expect(h.fake.sockets).toHaveLength(2);
      h.fake.current.close();
      h.actor.send({ type: 'transport.connect' });
      expect(h.fake.sockets).toHaveLength(3);
    });

    it('resets the attempt counter only after the connection stayed up minUptimeMs', () => {
      const h = harness({ minUptimeMs: 5000, pingIntervalMs: 0 }, {}, () => 0);
      h.actor.start();
      h.fake.current.close(); // attempt 1
      h.clock.increment(0);
      h.fake.current.open();
      h.clock.increment(4999);
      h.fake.current.close(1006, 'flap'); // lived < minUptime: attempt 2
      h.clock.increment(0);
      h.fake.current.open();
      h.clock.increment(5000);
      h.fake.current.close(1001, 'going away'); // lived minUptime: back to attempt 1
      expect(h.of('transport.reconnecting').map((e) => e.attempt)).toEqual([1, 2, 1]);
      expect(h.of('transport.closed')).toEqual([
        { type: 'transport.closed', code: 1006, reason: 'flap' },
        { type: 'transport.closed', code: 1001, reason: 'going away' },
      ]);
    });

    it('gives up after maxReconnectAttempts and stops with reason gave_up', () => {
      const h = harness({ maxReconnectAttempts: 2 }, {}, () => 0);
      h.actor.start();
      h.fake.current.close(1006, '', new Error('ECONNREFUSED'));
      h.clock.increment(0);
      h.fake.current.close();
      h.clock.increment(0);
      expect(h.state()).toEqual({ online: 'connecting' });
      h.fake.current.close();
      const snapshot = h.actor.getSnapshot();
      expect(snapshot.status).toBe('done');
      expect(snapshot.output?.reason).toBe('gave_up');
      expect(h.of('transport.gave_up')[0]!.error).toMatchObject({ code: 'transport.gave_up', attempts: 3 });
      expect(h.of('transport.reconnecting')).toHaveLength(2);
      expect(h.fake.sockets.every((s) => s.stopped)).toBe(true);
    });

    it('gives up when giveUpAfterMs passes without a stable connection', () => {
      const h = harness({ giveUpAfterMs: 10_000, reconnectBaseMs: 4000, reconnectCapMs: 4000 }, {}, () => 0.999);
      h.actor.start();
      h.fake.current.close();
      h.clock.increment(3996);
      h.fake.current.close();
      h.clock.increment(3996);
      h.fake.current.close();
      expect(h.state()).toBe('backingOff');
      h.clock.increment(2008);
      expect(h.actor.getSnapshot().output?.reason).toBe('gave_up');
      expect(h.of('transport.gave_up')[0]!.error.message).toMatch(/deadline/);
    });

    it('keeps the deadline through a flapping connection and gives up at the next failure after it', () => {
      const h = harness({ giveUpAfterMs: 10_000, minUptimeMs: 5000, pingIntervalMs: 0 }, {}, () => 0);
      h.actor.start();
      h.fake.current.open();
      h.clock.increment(4000);
      h.fake.current.close();
      h.clock.increment(0);
      h.fake.current.open();
      h.clock.increment(4000); // total 8 s, this connection 4 s: not stable yet
      h.fake.current.close();
      h.clock.increment(0);
      h.fake.current.open();
      h.clock.increment(3000); // deadline passes while open, before minUptime
      expect(h.state()).toEqual({ online: { open: 'unmonitored' } });
      h.fake.current.close();
      expect(h.actor.getSnapshot().output?.reason).toBe('gave_up');
    });

    it('cancels the deadline once a connection is stable', () => {
      const h = harness({ giveUpAfterMs: 10_000, minUptimeMs: 5000, pingIntervalMs: 0 }, {}, () => 0);
      h.actor.start();
      h.fake.current.open();
      h.clock.increment(60_000);
      h.fake.current.close();
      h.clock.increment(0);
      expect(h.state()).toEqual({ online: 'connecting' });
      expect(h.actor.getSnapshot().status).toBe('active');
    });
  });

  describe('transport machine: heartbeat', () => {
    it('pings every pingIntervalMs and stays open while pongs come back', () => {
      const h = harness({ pingIntervalMs: 30_000, pongTimeoutMs: 10_000 });
      h.actor.start();
      h.fake.current.open();
      for (let i = 0; i < 3; i++) {
        h.clock.increment(30_000);
        h.fake.current.pong();
      }
      expect(h.fake.current.pings).toBe(3);
      expect(h.state()).toEqual({ online: { open: 'waitingToPing' } });
    });

    it('terminates the socket when a pong is missed and reconnects', () => {
      const h = harness({ pingIntervalMs: 30_000, pongTimeoutMs: 10_000 });
      h.actor.start();
      const first = h.fake.current;
      first.open();
      h.clock.increment(30_000);
      h.clock.increment(9_999);
      expect(first.stopped).toBe(false);
      h.clock.increment(1);
      expect(first.stopped).toBe(true);
      expect(h.of('transport.closed')).toEqual([{ type: 'transport.closed', code: 1006, reason: 'heartbeat timeout' }]);
      expect(h.of('transport.reconnecting')[0]!.cause).toBe('transport.heartbeat_timeout');
      expect(h.actor.getSnapshot().context.stats.heartbeatMisses).toBe(1);
    });

    it('never pings when pingIntervalMs is 0', () => {
      const h = harness({ pingIntervalMs: 0 });
      h.actor.start();
      h.fake.current.open();
      h.clock.increment(10 * 60_000);
      expect(h.fake.current.pings).toBe(0);
      expect(h.state()).toEqual({ online: { open: 'unmonitored' } });
    });
  });

  describe('transport machine: closing', () => {
    it('closes gracefully with a close handshake and stops with reason closed', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.open();
      h.actor.send({ type: 'transport.close', code: 4000, reason: 'bye' });
      expect(h.fake.current.closeRequests).toEqual([{ code: 4000, reason: 'bye' }]);
      h.send(9);
      expect(h.fake.current.sent).toEqual([]);
      h.fake.current.close(4000, 'bye');
      const snapshot = h.actor.getSnapshot();
      expect(snapshot.output).toMatchObject({ reason: 'closed', stats: { dropped: 1 } });
      expect(h.of('transport.stopped')).toEqual([{ type: 'transport.stopped', reason: 'closed' }]);
      expect(h.fake.current.stopped).toBe(true);
    });

    it('flushes a congested outbox before the close handshake', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.open();
      h.fake.current.congest();
      h.send(1);
      h.actor.send({ type: 'supervisor.shutdown' });
      expect(h.fake.current.closeRequests).toEqual([]);
      h.fake.current.drain();
      expect(h.fake.current.sent).toEqual(['{"n":1}']);
      expect(h.fake.current.closeRequests).toEqual([{ code: 1000, reason: 'shutdown' }]);
    });

    it('terminates after closeTimeoutMs when the peer never completes the handshake', () => {
      const h = harness({ closeTimeoutMs: 2000 });
      h.actor.start();
      h.fake.current.open();
      h.actor.send({ type: 'transport.close' });
      h.clock.increment(2000);
      expect(h.actor.getSnapshot().output?.reason).toBe('closed');
      expect(h.fake.current.stopped).toBe(true);
      expect(h.of('transport.closed')).toEqual([{ type: 'transport.closed', code: 1006, reason: 'close timeout' }]);
    });

    it('stops at once while backing off, counting the outbox as dropped', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.close();
      h.send(1);
      h.send(2);
      h.actor.send({ type: 'transport.close' });
      expect(h.actor.getSnapshot().output).toMatchObject({ reason: 'closed', stats: { dropped: 2 } });
    });
  });

  describe('transport machine: reliable mode', () => {
    function reliableHarness(options: Partial<TransportOptions> = {}) {
      return harness({ reliable: true, pingIntervalMs: 0, ...options }, { sessionId: 'sess-1' }, () => 0);
    }

    it('offers reliable mode in the upgrade headers with the session and last received seq', () => {
      const h = reliableHarness();
      h.actor.start();
      expect(h.fake.current.input.headers).toEqual({
        'x-horde-reliable': '1',
        'x-horde-session': 'sess-1',
        'x-horde-last-received': '0',
      });
      h.fake.current.open({ reliable: true });
      h.fake.current.receive('R1 {"n":1}', 'R2 {"n":2}');
      h.fake.current.close();
      h.clock.increment(0);
      expect(h.fake.current.input.headers['x-horde-last-received']).toBe('2');
    });

    it('numbers outgoing frames and resends only what the peer did not receive, before new frames', () => {
      const h = reliableHarness();
      h.actor.start();
      h.fake.current.open({ reliable: true });
      h.send(1);
      h.send(2);
      h.send(3);
      expect(h.fake.current.sent).toEqual(['R1 {"n":1}', 'R2 {"n":2}', 'R3 {"n":3}']);
      h.fake.current.receive('A1');
      h.fake.current.close();
      h.send(4);
      h.clock.increment(0);
      h.fake.current.open({ reliable: true, peerLastReceived: 2 });
      h.send(5);
      expect(h.fake.current.sent).toEqual(['R3 {"n":3}', 'R4 {"n":4}', 'R5 {"n":5}']);
    });

    it('delivers incoming frames exactly once and in order, acking each', () => {
      const h = reliableHarness();
      h.actor.start();
      h.fake.current.open({ reliable: true });
      h.fake.current.receive('R1 {"n":1}', 'R2 {"n":2}', 'R2 {"n":2}', 'R1 {"n":1}', 'R3 {"n":3}');
      expect(h.of('transport.message').map((e) => e.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(h.fake.current.acks).toEqual([1, 2, 2, 2, 3]);
    });

    it('reports a gap and closes the socket so both sides resume', () => {
      const h = reliableHarness();
      h.actor.start();
      h.fake.current.open({ reliable: true });
      h.fake.current.receive('R1 {"n":1}', 'R3 {"n":3}', 'R4 {"n":4}');
      expect(h.of('transport.message')).toHaveLength(1);
      expect(h.of('transport.decode_error')[0]!.error.code).toBe('frame.reliable_gap');
      expect(h.fake.current.closeRequests).toEqual([{ code: 1002, reason: 'reliable sequence gap' }]);
    });

    it('reports frames without a reliable envelope as decode errors', () => {
      const h = reliableHarness();
      h.actor.start();
      h.fake.current.open({ reliable: true });
      h.fake.current.receive('{"n":1}');
      expect(h.of('transport.decode_error')[0]!.error.code).toBe('frame.reliable_invalid');
    });

    it('keeps messages beyond the window in the outbox until acks free it', () => {
      const h = reliableHarness({ reliableWindow: 2 });
      h.actor.start();
      h.fake.current.open({ reliable: true });
      for (let n = 1; n <= 4; n++) h.send(n);
      expect(h.fake.current.sent).toEqual(['R1 {"n":1}', 'R2 {"n":2}']);
      h.fake.current.receive('A1');
      expect(h.fake.current.sent).toEqual(['R1 {"n":1}', 'R2 {"n":2}', 'R3 {"n":3}']);
      h.fake.current.receive('A3');
      expect(h.fake.current.sent.at(-1)).toBe('R4 {"n":4}');
    });

    it('waits for every ack before the close handshake', () => {
      const h = reliableHarness();
      h.actor.start();
      h.fake.current.open({ reliable: true });
      h.send(1);
      h.actor.send({ type: 'transport.close' });
      expect(h.fake.current.closeRequests).toEqual([]);
      h.fake.current.receive('A1');
      expect(h.fake.current.closeRequests).toEqual([{ code: 1000, reason: '' }]);
    });

    it('falls back to plain frames against a peer that does not answer the header', () => {
      const h = reliableHarness();
      h.actor.start();
      h.send(1);
      h.fake.current.open({ reliable: false });
      h.send(2);
      h.fake.current.receive('{"n":7}');
      expect(h.fake.current.sent).toEqual(['{"n":1}', '{"n":2}']);
      expect(h.of('transport.message').map((e) => e.message)).toEqual([{ n: 7 }]);
      expect(h.of('transport.open')).toEqual([{ type: 'transport.open', reliable: false }]);
    });

    it('starts a fresh session after a plain connection broke the sequence', () => {
      const h = reliableHarness();
      h.actor.start();
      h.fake.current.open({ reliable: true });
      h.send(1);
      h.fake.current.close();
      h.clock.increment(0);
      h.fake.current.open({ reliable: false });
      expect(h.fake.current.sent).toEqual(['{"n":1}']);
      h.fake.current.close();
      h.clock.increment(0);
      expect(h.fake.current.input.headers['x-horde-session']).toBe('sess-1.1');
      h.fake.current.open({ reliable: true });
      h.send(2);
      expect(h.fake.current.sent).toEqual(['R1 {"n":2}']);
    });
  });

  describe('transport machine: disposal', () => {
    it('disposes the socket when the actor is stopped', () => {
      const h = harness();
      h.actor.start();
      h.fake.current.open();
      h.actor.stop();
      expect(h.fake.current.stopped).toBe(true);
    });

    it('never has two live sockets', () => {
      const h = harness({ connectTimeoutMs: 100 }, {}, () => 0);
      h.actor.start();
      for (let i = 0; i < 20; i++) {
        if (i % 3 === 0) h.fake.current.open();
        if (i % 2 === 0) h.fake.current.close();
        h.clock.increment(100);
        expect(h.fake.sockets.filter((s) => !s.stopped).length).toBeLessThanOrEqual(1);
      }
    });
  });
});
