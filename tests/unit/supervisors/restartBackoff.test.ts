import { nextRestartAttempt, restartCeilingMs, restartDelayMs } from '../../../src/supervisors/restartBackoff';
import { DEFAULT_RESTART_BACKOFF } from '../../../src/supervisors/defaults';
import { seededRandom } from '../../../src/util/clock';

const backoff = { minMs: 1_000, maxMs: 30_000, resetAfterMs: 15_000 };

describe('restartCeilingMs', () => {
  it.each([
    [1, 2_000],
    [2, 4_000],
    [3, 8_000],
    [4, 16_000],
    [5, 30_000],
    [6, 30_000],
    [1_000_000, 30_000],
  ])('attempt %i has ceiling %i ms (min 1 s, max 30 s)', (attempt, ceilingMs) => {
    expect(restartCeilingMs(backoff, attempt)).toBe(ceilingMs);
  });

  it('never exceeds maxMs when minMs equals it', () => {
    expect(restartCeilingMs({ minMs: 500, maxMs: 500, resetAfterMs: 0 }, 1)).toBe(500);
  });
});

describe('restartDelayMs', () => {
  it.each([
    { attempt: 1, random: 0, delayMs: 1_000 },
    { attempt: 1, random: 0.5, delayMs: 1_500 },
    { attempt: 1, random: 0.999_999, delayMs: 1_999 },
    { attempt: 3, random: 0.5, delayMs: 4_500 },
    { attempt: 5, random: 0.5, delayMs: 15_500 },
    { attempt: 9, random: 0.25, delayMs: 8_250 },
  ])('attempt $attempt with random $random waits $delayMs ms', ({ attempt, random, delayMs }) => {
    expect(restartDelayMs(backoff, attempt, () => random)).toBe(delayMs);
  });

  it('stays within [minMs, ceiling) for many seeded draws', () => {
    const random = seededRandom(7);
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      for (let i = 0; i < 200; i += 1) {
        const delayMs = restartDelayMs(DEFAULT_RESTART_BACKOFF, attempt, random);
        expect(delayMs).toBeGreaterThanOrEqual(DEFAULT_RESTART_BACKOFF.minMs);
        expect(delayMs).toBeLessThanOrEqual(
          Math.max(DEFAULT_RESTART_BACKOFF.minMs, restartCeilingMs(DEFAULT_RESTART_BACKOFF, attempt)),
        );
        expect(Number.isInteger(delayMs)).toBe(true);
      }
    }
  });

  it('waits exactly minMs when minMs equals maxMs', () => {
    expect(restartDelayMs({ minMs: 1_000, maxMs: 1_000, resetAfterMs: 0 }, 4, () => 0.9)).toBe(1_000);
  });
});

describe('nextRestartAttempt', () => {
  it.each([
    { previous: 0, ranForMs: 0, next: 1 },
    { previous: 3, ranForMs: 14_999, next: 4 },
    { previous: 3, ranForMs: 15_000, next: 1 },
    { previous: 9, ranForMs: 60_000, next: 1 },
  ])('after $previous attempts and $ranForMs ms of running: attempt $next', ({ previous, ranForMs, next }) => {
    expect(nextRestartAttempt(previous, ranForMs, 15_000)).toBe(next);
  });
});
