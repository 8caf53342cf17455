import { decideReconnect } from '../../../src/transport/reconnect';
import { Outbox } from '../../../src/transport/outbox';
import { DEFAULT_TRANSPORT_OPTIONS, resolveTransportOptions } from '../../../src/transport/options';
import { InvalidTransportOptionsError } from '../../../src/transport/errors';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MIN_UPTIME_MS,
  DEFAULT_OUTBOX_CAPACITY,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PONG_TIMEOUT_MS,
  DEFAULT_RECONNECT_BASE_MS,
  DEFAULT_RECONNECT_CAP_MS,
} from '../../../src/transport/defaults';

const policy = { baseMs: 1000, capMs: 30_000, multiplier: 2 };

describe('decideReconnect', () => {
  it.each([
    // failures, maxAttempts, deadlinePassed, random, expected
    [1, Infinity, false, 0.5, { action: 'retry', attempt: 1, delayMs: 500 }],
    [2, Infinity, false, 0.5, { action: 'retry', attempt: 2, delayMs: 1000 }],
    [3, Infinity, false, 0.999, { action: 'retry', attempt: 3, delayMs: 3996 }],
    [6, Infinity, false, 0.999, { action: 'retry', attempt: 6, delayMs: 29_970 }],
    [50, Infinity, false, 0.999, { action: 'retry', attempt: 50, delayMs: 29_970 }],
    [2000, Infinity, false, 0.5, { action: 'retry', attempt: 2000, delayMs: 15_000 }],
    [1, 5, false, 0, { action: 'retry', attempt: 1, delayMs: 0 }],
    [5, 5, false, 0.5, { action: 'retry', attempt: 5, delayMs: 8000 }],
    [6, 5, false, 0.5, { action: 'give_up', rule: 'attempts' }],
    [1, 0, false, 0.5, { action: 'give_up', rule: 'attempts' }],
    [1, Infinity, true, 0.5, { action: 'give_up', rule: 'deadline' }],
    [9, 5, true, 0.5, { action: 'give_up', rule: 'deadline' }],
  ] as const)(
    'failure %d with max %d attempts (deadline passed: %s, random %d) -> %j',
    (failures, maxReconnectAttempts, deadlinePassed, r, expected) => {
      expect(decideReconnect({ failures, maxReconnectAttempts, deadlinePassed }, policy, () => r)).toEqual(expected);
    },
  );

  it('never draws a delay above the ceiling, whatever the randomness', () => {
    for (let failures = 1; failures < 40; failures++) {
      for (const r of [0, 0.25, 0.999999]) {
        const d = decideReconnect({ failures, maxReconnectAttempts: Infinity, deadlinePassed: false }, policy, () => r);
        if (d.action !== 'retry') throw new Error('expected a retry');
        expect(d.delayMs).toBeGreaterThanOrEqual(0);
        expect(d.delayMs).toBeLessThanOrEqual(Math.min(30_000, 1000 * 2 ** (failures - 1)));
      }
    }
  });
});

describe('Outbox', () => {
  it.each([
    ['drop_oldest', ['b', 'c', 'd'], ['queued', 'queued', 'queued', 'dropped_oldest']],
    ['drop_newest', ['a', 'b', 'c'], ['queued', 'queued', 'queued', 'dropped_newest']],
    ['fail', ['a', 'b', 'c'], ['queued', 'queued', 'queued', 'overflow']],
  ] as const)('under %s keeps %j', (policy, kept, outcomes) => {
    const outbox = new Outbox<string>(3, policy);
    expect(['a', 'b', 'c', 'd'].map((x) => outbox.offer(x).outcome)).toEqual(outcomes);
    expect(outbox.dropped).toBe(1);
    expect(outbox.clear()).toEqual(kept);
    expect(outbox.size).toBe(0);
  });

  it('is FIFO across many offers and shifts (compaction keeps order)', () => {
    const outbox = new Outbox<number>(5000, 'drop_oldest');
    for (let i = 0; i < 3000; i++) outbox.offer(i);
    for (let i = 0; i < 2500; i++) expect(outbox.shift()).toBe(i);
    for (let i = 3000; i < 4000; i++) outbox.offer(i);
    expect(outbox.peek()).toBe(2500);
    expect(outbox.size).toBe(1500);
    expect(outbox.clear()).toEqual(Array.from({ length: 1500 }, (_, i) => 2500 + i));
  });

  it('with capacity 0 queues nothing', () => {
    const outbox = new Outbox<string>(0, 'drop_oldest');
    expect(outbox.offer('a').outcome).toBe('dropped_newest');
    expect(outbox.size).toBe(0);
  });

  it('rejects a negative capacity', () => {
    expect(() => new Outbox(-1, 'fail')).toThrow(RangeError);
  });
});

describe('transport options', () => {
  it('defaults follow anchors B.2 and upstream limits', () => {
    expect(DEFAULT_RECONNECT_BASE_MS).toBe(1000);
    expect(DEFAULT_RECONNECT_CAP_MS).toBe(30_000);
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_MIN_UPTIME_MS).toBe(5000);
    expect(DEFAULT_PING_INTERVAL_MS).toBe(30_000);
    expect(DEFAULT_PONG_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_OUTBOX_CAPACITY).toBe(1000);
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(50 * 1024 * 1024);
    expect(resolveTransportOptions()).toEqual(DEFAULT_TRANSPORT_OPTIONS);
  });

  it('keeps a default when an override is explicitly undefined', () => {
    expect(resolveTransportOptions({ connectTimeoutMs: undefined }).connectTimeoutMs).toBe(DEFAULT_CONNECT_TIMEOUT_MS);
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      resolveTransportOptions({
        reconnectBaseMs: 10,
        reconnectCapMs: 5,
        maxReconnectAttempts: -1,
        pongTimeoutMs: 0,
        outboxOverflow: 'explode' as never,
        reliableWindow: 0,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTransportOptionsError);
    const problems = (error as InvalidTransportOptionsError).problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/capMs/);
    expect(problems.join('\n')).toMatch(/outboxOverflow/);
  });

  it('accepts Infinity only where it means "never"', () => {
    expect(() => resolveTransportOptions({ maxReconnectAttempts: Infinity, giveUpAfterMs: Infinity })).not.toThrow();
    expect(() => resolveTransportOptions({ connectTimeoutMs: Infinity })).toThrow(InvalidTransportOptionsError);
    expect(() => resolveTransportOptions({ pingIntervalMs: 0 })).not.toThrow();
  });

  it('rejects durations a Node timer would fire early (above 2^31-1 ms)', () => {
    const thirtyDaysMs = 30 * 24 * 3600 * 1000;
    expect(() => resolveTransportOptions({ giveUpAfterMs: thirtyDaysMs })).toThrow(/giveUpAfterMs/);
    expect(() => resolveTransportOptions({ reconnectCapMs: thirtyDaysMs })).toThrow(/reconnectCapMs/);
  });
});
