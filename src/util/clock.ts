/**
 * Wall-clock time, injected so that tests control it. Timers inside machines use XState's `clock`
 * (`SimulatedClock` in tests); this covers the places that read the current time (receipt timestamps,
 * auth freshness, restart windows).
 *
 * @example
 * ```ts
 * const clock = manualClock(1_700_000_000_000);
 * clock.advance(10_000);
 * clock.nowMs(); // 1_700_000_010_000
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(startMs = 0): ManualClock {
  let now = startMs;
  return {
    nowMs: () => now,
    advance: (ms) => {
      now += ms;
    },
    set: (ms) => {
      now = ms;
    },
  };
}

/** A source of uniform numbers in [0, 1), injected wherever jitter is drawn. */
export type Random = () => number;

export const systemRandom: Random = () => Math.random();

/** A small deterministic PRNG (mulberry32) for tests and reproducible benchmarks. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
