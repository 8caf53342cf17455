/**
 * The warm standby pool of the process backend, with fake standbys and hand-driven timers: it keeps its size, hands
 * out the oldest, replaces failures after a bounded backoff (never in a tight loop) and leaves nothing on close.
 */
import { failuresAfterEnd, replacementDelayMs, StandbyPool, type PoolTimers } from '../../../src/actors/miner/backends/standbyPool';
import { manualClock } from '../../../src/util/clock';

const BACKOFF = { baseMs: 1_000, capMs: 30_000, multiplier: 2 };
const MIN_DELAY_MS = 250;
const STABLE_AFTER_MS = 10_000;

describe('standby pool: pure decisions', () => {
  it.each([
    { previous: 0, lifetimeMs: 5, expected: 1, why: 'a first quick death starts a run' },
    { previous: 3, lifetimeMs: 5, expected: 4, why: 'another quick death lengthens the run' },
    { previous: 3, lifetimeMs: STABLE_AFTER_MS - 1, expected: 4, why: 'just under the stable age is still quick' },
    { previous: 3, lifetimeMs: STABLE_AFTER_MS, expected: 1, why: 'a standby that had started begins a new run' },
    { previous: 9, lifetimeMs: 600_000, expected: 1, why: 'a long-lived standby begins a new run' },
  ])('counts $expected failures after $previous and a life of $lifetimeMs ms ($why)', ({ previous, lifetimeMs, expected }) => {
    expect(failuresAfterEnd(previous, lifetimeMs, STABLE_AFTER_MS)).toBe(expected);
  });

  it.each([
    { failures: 0, draw: 0.9, expected: 0, why: 'no failure: replace at once' },
    { failures: 1, draw: 0, expected: MIN_DELAY_MS, why: 'an unlucky draw still waits the minimum' },
    { failures: 1, draw: 0.5, expected: 500, why: 'half of the first ceiling' },
    { failures: 3, draw: 0.5, expected: 2_000, why: 'the ceiling doubles per failure' },
    { failures: 50, draw: 0.999999, expected: 29_999, why: 'the cap bounds it however many failed' },
  ])('waits $expected ms after $failures failures with draw $draw ($why)', ({ failures, draw, expected }) => {
    expect(replacementDelayMs(failures, BACKOFF, MIN_DELAY_MS, () => draw)).toBe(expected);
  });
});

interface FakeStandby {
  readonly n: number;
  end(): void;
  dismissed: boolean;
  killed: boolean;
}

/** Timers run only when the test advances time. */
function manualTimers(clock: ReturnType<typeof manualClock>) {
  let pending: Array<{ id: number; atMs: number; callback: () => void }> = [];
  let nextId = 1;
  const timers: PoolTimers = {
    setTimeout: (callback, delayMs) => {
      const id = nextId++;
      pending.push({ id, atMs: clock.nowMs() + delayMs, callback });
      return id;
    },
    clearTimeout: (handle) => {
      pending = pending.filter((timer) => timer.id !== handle);
    },
  };
  return {
    timers,
    pendingCount: () => pending.length,
    advance(ms: number) {
      clock.advance(ms);
      const due = pending.filter((timer) => timer.atMs <= clock.nowMs());
      pending = pending.filter((timer) => timer.atMs > clock.nowMs());
      for (const timer of due) timer.callback();
    },
  };
}

function harness(options: { size: number; draw?: number; failStart?: () => boolean; endAtStart?: () => boolean; refillDelayMs?: number }) {
  const clock = manualClock(0);
  const time = manualTimers(clock);
  const started: FakeStandby[] = [];
  const failures: Array<{ failures: number; delayMs: number }> = [];
  const pool = new StandbyPool<FakeStandby>({
    size: options.size,
    backoff: BACKOFF,
    minRetryDelayMs: MIN_DELAY_MS,
    stableAfterMs: STABLE_AFTER_MS,
    clock,
    random: () => options.draw ?? 0.5,
    timers: time.timers,
    ...(options.refillDelayMs === undefined ? {} : { refillDelayMs: options.refillDelayMs }),
    effects: {
      start: (onEnded) => {
        if (options.failStart?.() === true) throw new Error('spawn EAGAIN');
        if (options.endAtStart?.() === true) onEnded();
        let ended = false;
        const standby: FakeStandby = {
          n: started.length + 1,
          dismissed: false,
          killed: false,
          end: () => {
            if (ended) return;
            ended = true;
            onEnded();
          },
        };
        started.push(standby);
        return standby;
      },
      dismiss: (standby) => {
        standby.dismissed = true;
        standby.end();
        return Promise.resolve();
      },
      killSync: (standby) => {
        standby.killed = true;
      },
      onFailure: (count, delayMs) => failures.push({ failures: count, delayMs }),
    },
  });
  return { pool, started, failures, time, clock };
}

describe('standby pool', () => {
  it('starts standbys up to its size and no more', () => {
    const { pool, started } = harness({ size: 2 });
    pool.fill();
    pool.fill();
    expect(started.map((s) => s.n)).toEqual([1, 2]);
    expect(pool.readyCount).toBe(2);
  });

  it('hands out nothing when its size is 0', () => {
    const { pool, started } = harness({ size: 0 });
    pool.fill();
    expect(pool.take()).toBeUndefined();
    expect(started).toHaveLength(0);
  });

  it('with a refill delay, starts no replacement for a standby that comes back in time, and takes it again', () => {
    const { pool, started, time } = harness({ size: 1, refillDelayMs: 3_000 });
    pool.fill();
    const first = pool.take()!;
    expect(pool.refillPending).toBe(true);
    time.advance(2_999);
    expect(started).toHaveLength(1);
    expect(pool.giveBack(first)).toBe(true);
    time.advance(1);
    // The refill found the pool full: no process was started.
    expect(started).toHaveLength(1);
    expect(pool.take()).toBe(first);
  });

  it('with a refill delay, never starts a replacement in a steady stream of short jobs', () => {
    const { pool, started, time } = harness({ size: 1, refillDelayMs: 3_000 });
    pool.fill();
    // A job every 500 ms for a minute, each giving its standby back after 400 ms.
    for (let i = 0; i < 120; i++) {
      const standby = pool.take()!;
      expect(standby).toBe(started[0]);
      time.advance(400);
      expect(pool.giveBack(standby)).toBe(true);
      expect(pool.refillPending).toBe(false);
      time.advance(100);
    }
    expect(started).toHaveLength(1);
  });

  it('with a refill delay, starts the replacement once the delay passes without the standby back', () => {
    const { pool, started, time } = harness({ size: 1, refillDelayMs: 3_000 });
    pool.fill();
    const first = pool.take()!;
    time.advance(3_000);
    expect(started).toHaveLength(2);
    // A standby that comes back to a full pool is refused: its owner dismisses it.
    expect(pool.giveBack(first)).toBe(false);
    expect(pool.readyCount).toBe(1);
  });

  it('refuses a standby given back after close, and clears the refill timer on close', async () => {
    const { pool, time } = harness({ size: 1, refillDelayMs: 3_000 });
    pool.fill();
    const first = pool.take()!;
    await pool.close();
    expect(time.pendingCount()).toBe(0);
    expect(pool.giveBack(first)).toBe(false);
  });

  it('counts a given-back standby that dies while waiting as a failure and replaces it', () => {
    const { pool, started, failures, time } = harness({ size: 1, refillDelayMs: 3_000 });
    pool.fill();
    const first = pool.take()!;
    expect(pool.giveBack(first)).toBe(true);
    time.advance(STABLE_AFTER_MS);
    first.end();
    expect(failures).toHaveLength(1);
    time.advance(failures[0]!.delayMs);
    expect(started).toHaveLength(2);
    expect(pool.readyCount).toBe(1);
  });

  it('hands out the oldest standby and starts its replacement at once', () => {
    const { pool, started } = harness({ size: 2 });
    pool.fill();
    expect(pool.take()?.n).toBe(1);
    expect(started.map((s) => s.n)).toEqual([1, 2, 3]);
    expect(pool.take()?.n).toBe(2);
    expect(pool.readyCount).toBe(2);
  });

  it('does not count the end of a taken standby as a failure', () => {
    const { pool, started, failures } = harness({ size: 1 });
    pool.fill();
    pool.take()!.end();
    expect(failures).toEqual([]);
    expect(started).toHaveLength(2);
  });

  it('replaces a standby that died untaken only after the backoff delay, and counts it', () => {
    const { pool, started, failures, time } = harness({ size: 1, draw: 0.5 });
    pool.fill();
    started[0]!.end();
    expect(failures).toEqual([{ failures: 1, delayMs: 500 }]);
    expect(pool.readyCount).toBe(0);
    expect(pool.take()).toBeUndefined();
    time.advance(499);
    expect(started).toHaveLength(1);
    time.advance(1);
    expect(started).toHaveLength(2);
    expect(pool.readyCount).toBe(1);
  });

  it('backs off longer with each quick failure, up to the cap, never in a tight loop', () => {
    const { pool, started, failures, time } = harness({ size: 1, draw: 1 });
    pool.fill();
    for (let i = 0; i < 8; i++) {
      started.at(-1)!.end();
      time.advance(failures.at(-1)!.delayMs);
    }
    expect(failures.map((f) => f.delayMs)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(started).toHaveLength(9);
  });

  it('starts a new run of failures after a standby that had lived long enough', () => {
    const { pool, started, failures, time } = harness({ size: 1, draw: 1 });
    pool.fill();
    started[0]!.end();
    time.advance(1_000);
    started[1]!.end();
    time.advance(2_000);
    time.advance(STABLE_AFTER_MS);
    started[2]!.end();
    expect(failures.map((f) => f.failures)).toEqual([1, 2, 1]);
  });

  it('treats a start that throws as a failure and retries after the delay', () => {
    let fail = true;
    const { pool, started, failures, time } = harness({ size: 1, failStart: () => fail });
    pool.fill();
    expect(failures).toEqual([{ failures: 1, delayMs: 500 }]);
    expect(time.pendingCount()).toBe(1);
    fail = false;
    time.advance(500);
    expect(started).toHaveLength(1);
    expect(pool.readyCount).toBe(1);
  });

  it('treats a standby that ends while being started as a failure', () => {
    let endAtStart = true;
    const { pool, failures, time } = harness({ size: 1, endAtStart: () => endAtStart });
    pool.fill();
    expect(pool.readyCount).toBe(0);
    expect(failures).toHaveLength(1);
    endAtStart = false;
    time.advance(500);
    expect(pool.readyCount).toBe(1);
  });

  it('lets a take during the backoff wait for the timer instead of starting at once', () => {
    const { pool, started, time } = harness({ size: 2 });
    pool.fill();
    started[0]!.end();
    expect(pool.take()?.n).toBe(2);
    expect(started).toHaveLength(2);
    time.advance(500);
    expect(pool.readyCount).toBe(2);
    expect(pool.consecutiveFailures).toBe(0);
  });

  it('dismisses every ready standby on close, cancels a pending replacement and starts nothing after', async () => {
    const { pool, started, failures, time } = harness({ size: 2 });
    pool.fill();
    started[0]!.end();
    expect(pool.retryPending).toBe(true);
    await pool.close();
    expect(started[1]!.dismissed).toBe(true);
    expect(time.pendingCount()).toBe(0);
    expect(failures).toHaveLength(1);
    pool.fill();
    expect(pool.take()).toBeUndefined();
    expect(started).toHaveLength(2);
  });

  it('kills every ready standby synchronously as a last resort', () => {
    const { pool, started } = harness({ size: 2 });
    pool.fill();
    const taken = pool.take()!;
    pool.killAllSync();
    expect(started.filter((s) => s.killed).map((s) => s.n)).toEqual([2, 3]);
    expect(taken.killed).toBe(false);
    expect(pool.readyCount).toBe(0);
  });
});
