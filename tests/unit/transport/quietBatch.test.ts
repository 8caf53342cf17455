import { QuietBatch, type QuietBatchTimers } from '../../../src/transport/quietBatch';
import { manualClock } from '../../../src/util/clock';

/** Timers run by hand: `fire()` runs the armed callback (as the event loop would once its delay is over). */
function manualTimers(): QuietBatchTimers & { fire(): void; readonly armed: number; delays: number[] } {
  let pending: Array<{ callback: () => void; handle: number }> = [];
  let next = 0;
  const delays: number[] = [];
  return {
    delays,
    set: (callback, delayMs) => {
      delays.push(delayMs);
      const handle = next++;
      pending.push({ callback, handle });
      return handle;
    },
    clear: (handle) => {
      pending = pending.filter((t) => t.handle !== handle);
    },
    fire() {
      const due = pending;
      pending = [];
      for (const t of due) t.callback();
    },
    get armed() {
      return pending.length;
    },
  };
}

function setup(options: { quietMs?: number; maxDelayMs?: number; capacity?: number } = {}) {
  const clock = manualClock(1_000);
  const timers = manualTimers();
  const batches: number[][] = [];
  const errors: Error[] = [];
  const batch = new QuietBatch<number>({
    run: (items) => {
      batches.push(items);
    },
    onError: (error) => errors.push(error),
    clock,
    timers,
    quietMs: options.quietMs ?? 1,
    maxDelayMs: options.maxDelayMs ?? 100,
    ...(options.capacity === undefined ? {} : { capacity: options.capacity }),
  });
  return { batch, clock, timers, batches, errors };
}

describe('QuietBatch', () => {
  it('runs the items, in order, once a quiet window passes without a new one', () => {
    const { batch, timers, batches } = setup();
    batch.push(1);
    batch.push(2);
    expect(timers.delays).toEqual([1]);
    timers.fire(); // items came after the timer was armed: the burst may go on
    expect(batches).toEqual([]);
    expect(timers.armed).toBe(1);
    timers.fire(); // a whole window without a new item
    expect(batches).toEqual([[1, 2]]);
    expect(batch.size).toBe(0);
    expect(timers.armed).toBe(0);
  });

  it('runs a lone item after one quiet window', () => {
    const { batch, timers, batches } = setup();
    batch.push(7);
    timers.fire();
    expect(batches).toEqual([[7]]);
  });

  it('waits again for each window in which items kept coming', () => {
    const { batch, timers, batches, clock } = setup({ maxDelayMs: 100 });
    batch.push(1);
    for (let i = 2; i <= 5; i++) {
      clock.advance(5);
      batch.push(i);
      timers.fire();
      expect(batches).toEqual([]);
    }
    timers.fire();
    expect(batches).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('never holds the first item longer than maxDelayMs under a steady stream', () => {
    const { batch, timers, batches, clock } = setup({ maxDelayMs: 20 });
    batch.push(0);
    let n = 1;
    while (batches.length === 0) {
      clock.advance(5);
      batch.push(n++);
      timers.fire();
    }
    expect(batches[0]).toEqual([0, 1, 2, 3, 4]);
    // the next item starts a new batch with a fresh deadline
    batch.push(99);
    timers.fire();
    expect(batches[1]).toEqual([99]);
  });

  it('runs at once when it reaches its capacity, dropping nothing', () => {
    const { batch, timers, batches } = setup({ capacity: 3 });
    batch.push(1);
    batch.push(2);
    batch.push(3);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(timers.armed).toBe(0);
    batch.push(4);
    timers.fire();
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('flush runs what is held now and cancels the timer', () => {
    const { batch, timers, batches } = setup();
    batch.flush(); // nothing held: nothing runs
    batch.push(1);
    batch.flush();
    expect(batches).toEqual([[1]]);
    expect(timers.armed).toBe(0);
  });

  it('reports an exception of run to onError instead of throwing it out of the timer', () => {
    const clock = manualClock(0);
    const timers = manualTimers();
    const errors: Error[] = [];
    const batch = new QuietBatch<number>({
      run: () => {
        throw new Error('boom');
      },
      onError: (error) => errors.push(error),
      clock,
      timers,
    });
    batch.push(1);
    expect(() => timers.fire()).not.toThrow();
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    expect(batch.size).toBe(0);
  });

  it('runs on real timers once the event loop is quiet', async () => {
    const batches: number[][] = [];
    const batch = new QuietBatch<number>({ run: (items) => batches.push(items), onError: (e) => { throw e; } });
    batch.push(1);
    batch.push(2);
    expect(batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toEqual([[1, 2]]);
  });
});
