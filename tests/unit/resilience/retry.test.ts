/**
 * Retry policy as data: the pure decision (`nextRetry`), validation, and the `retrying()` loop driven by simulated
 * time (no sleeps).
 */
import {
  DEFAULT_RETRY_POLICY,
  UPSTREAM_OUTPUT_UPLOAD_RETRY,
  UPSTREAM_SET_WEIGHTS_RETRY,
  UPSTREAM_SLASHING_RETRY,
  UPSTREAM_VOLUME_DOWNLOAD_RETRY,
} from '../../../src/resilience/defaults';
import { AttemptTimeoutError, RetryAbortedError, RetryPolicyError } from '../../../src/resilience/errors';
import type { RetryMetrics } from '../../../src/resilience/metrics';
import {
  nextRetry,
  retryCeilingMs,
  retrying,
  retryPolicy,
  retryPolicyProblems,
  type RetryDecision,
  type RetryPolicy,
} from '../../../src/resilience/retry';
import { seededRandom, type Random } from '../../../src/util/clock';
import { HordeError } from '../../../src/util/errors';
import { flush, testTime } from '../../support/resilienceClock';

const fixed =
  (value: number): Random =>
  () =>
    value;

class CodedError extends HordeError {
  constructor(code: string) {
    super(code, `failed with ${code}`);
  }
}

const policy = (overrides: Partial<RetryPolicy>): RetryPolicy => ({ ...DEFAULT_RETRY_POLICY, ...overrides });

describe('nextRetry', () => {
  const boom = new Error('boom');

  it.each<[string, RetryPolicy, number, Random, RetryDecision]>([
    ['upload: 1 s after the first failure', UPSTREAM_OUTPUT_UPLOAD_RETRY, 1, fixed(0.9), { retry: true, delayMs: 1000, nextAttempt: 2 }],
    ['upload: 2 s after the second', UPSTREAM_OUTPUT_UPLOAD_RETRY, 2, fixed(0.9), { retry: true, delayMs: 2000, nextAttempt: 3 }],
    ['upload: gives up after the third attempt', UPSTREAM_OUTPUT_UPLOAD_RETRY, 3, fixed(0.9), { retry: false, reason: 'maximum_attempts', code: 'unknown' }],
    ['download: 1 s × (1 + 0.1·U) at U=0', UPSTREAM_VOLUME_DOWNLOAD_RETRY, 1, fixed(0), { retry: true, delayMs: 1000, nextAttempt: 2 }],
    ['download: 2 s × 1.05 at U=0.5', UPSTREAM_VOLUME_DOWNLOAD_RETRY, 2, fixed(0.5), { retry: true, delayMs: 2100, nextAttempt: 3 }],
    ['download: 4 s × 1.1 at U→1, above maximumIntervalMs by the ratio', UPSTREAM_VOLUME_DOWNLOAD_RETRY, 3, fixed(0.999999), { retry: true, delayMs: 4400, nextAttempt: 4 }],
    ['download: gives up after 3 retries (4 attempts)', UPSTREAM_VOLUME_DOWNLOAD_RETRY, 4, fixed(0), { retry: false, reason: 'maximum_attempts', code: 'unknown' }],
    ['weights: constant 5 s', UPSTREAM_SET_WEIGHTS_RETRY, 57, fixed(0.3), { retry: true, delayMs: 5000, nextAttempt: 58 }],
    ['slashing: 2 s doubling, capped at 120 s', UPSTREAM_SLASHING_RETRY, 5, fixed(0), { retry: true, delayMs: 32_000, nextAttempt: 6 }],
    ['full jitter draws below the ceiling', policy({ jitter: 'full' }), 3, fixed(0.5), { retry: true, delayMs: 2000, nextAttempt: 4 }],
    ['full jitter may retry at once', policy({ jitter: 'full' }), 1, fixed(0), { retry: true, delayMs: 0, nextAttempt: 2 }],
    ['the ceiling stops at maximumIntervalMs', policy({ jitter: 'none', maximumIntervalMs: 5000, maximumAttempts: 50 }), 10, fixed(0), { retry: true, delayMs: 5000, nextAttempt: 11 }],
    ['a huge attempt number neither overflows nor stops an unlimited policy', policy({ jitter: 'none', maximumAttempts: Infinity }), 1e6, fixed(0), { retry: true, delayMs: 100_000, nextAttempt: 1e6 + 1 }],
    ['a fractional coefficient yields whole milliseconds', policy({ jitter: 'none', backoffCoefficient: 1.5, initialIntervalMs: 333 }), 2, fixed(0), { retry: true, delayMs: 500, nextAttempt: 3 }],
    ['maximumAttempts 1 disables retries', policy({ maximumAttempts: 1 }), 1, fixed(0), { retry: false, reason: 'maximum_attempts', code: 'unknown' }],
  ])('%s', (_title, p, attempt, random, expected) => {
    expect(nextRetry(p, attempt, boom, random)).toEqual(expected);
  });

  it('stops at once on a non-retryable code, whatever the attempt count', () => {
    const p = policy({ nonRetryableCodes: ['upload.http_4xx'], maximumAttempts: Infinity });
    expect(nextRetry(p, 1, new CodedError('upload.http_4xx'), fixed(0))).toEqual({
      retry: false,
      reason: 'non_retryable',
      code: 'upload.http_4xx',
    });
    expect(nextRetry(p, 1, new CodedError('upload.http_5xx'), fixed(0)).retry).toBe(true);
  });

  it('reads Node system error codes too (ECONNREFUSED)', () => {
    const p = policy({ nonRetryableCodes: ['ECONNREFUSED'] });
    const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(nextRetry(p, 1, error, fixed(0))).toMatchObject({ retry: false, reason: 'non_retryable' });
  });

  it('never retries its own abort', () => {
    expect(nextRetry(DEFAULT_RETRY_POLICY, 1, new RetryAbortedError('stop'), fixed(0))).toMatchObject({
      retry: false,
      reason: 'non_retryable',
      code: 'retry.aborted',
    });
  });

  it('draws from the random source only when it retries', () => {
    let draws = 0;
    const counting: Random = () => {
      draws++;
      return 0.5;
    };
    nextRetry(policy({ maximumAttempts: 2 }), 2, new Error('x'), counting);
    expect(draws).toBe(0);
    nextRetry(policy({ maximumAttempts: 2 }), 1, new Error('x'), counting);
    expect(draws).toBe(1);
  });

  it('keeps full-jitter delays within [0, ceiling) over many seeded draws', () => {
    const random = seededRandom(7);
    const p = policy({ jitter: 'full', maximumAttempts: Infinity });
    for (let attempt = 1; attempt <= 200; attempt++) {
      const decision = nextRetry(p, attempt, new Error('x'), random);
      if (!decision.retry) throw new Error('expected a retry');
      expect(decision.delayMs).toBeGreaterThanOrEqual(0);
      expect(decision.delayMs).toBeLessThan(Math.max(1, retryCeilingMs(p, attempt)));
    }
  });
});

describe('retry policy validation', () => {
  it.each<[string, unknown, string[]]>([
    ['not an object', 42, ['retryPolicy must be an object']],
    [
      'a maximum below the initial interval',
      policy({ initialIntervalMs: 2000, maximumIntervalMs: 1000 }),
      ['retryPolicy.maximumIntervalMs (1000) cannot be less than initialIntervalMs (2000)'],
    ],
    ['a shrinking coefficient', policy({ backoffCoefficient: 0.5 }), ['retryPolicy.backoffCoefficient must be a finite number >= 1']],
    [
      "Temporal's 0 for unlimited attempts",
      policy({ maximumAttempts: 0 }),
      [
        "retryPolicy.maximumAttempts must be an integer >= 1 or Infinity (1 disables retries; Temporal's 0-means-unlimited is not accepted)",
      ],
    ],
    ['a fractional attempt count', policy({ maximumAttempts: 2.5 }), [expect.stringContaining('maximumAttempts')]],
    ['a jitter ratio above 1', policy({ jitter: { ratio: 2 } }), ['retryPolicy.jitter.ratio must be a number between 0 and 1']],
    ['an unknown jitter', { ...DEFAULT_RETRY_POLICY, jitter: 'equal' }, ["retryPolicy.jitter must be 'full', 'none' or { ratio }"]],
    ['an empty code', policy({ nonRetryableCodes: ['ok', ''] }), ['retryPolicy.nonRetryableCodes[1] must be a non-empty string']],
    ['a misspelt field', { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 }, ['retryPolicy.maxAttempts is not a retry policy field']],
    [
      'several faults at once',
      { ...DEFAULT_RETRY_POLICY, initialIntervalMs: -1, backoffCoefficient: Number.NaN },
      ['retryPolicy.initialIntervalMs must be a finite number >= 0', 'retryPolicy.backoffCoefficient must be a finite number >= 1'],
    ],
  ])('rejects %s precisely', (_title, candidate, problems) => {
    expect(retryPolicyProblems(candidate)).toEqual(problems);
  });

  it.each([DEFAULT_RETRY_POLICY, UPSTREAM_OUTPUT_UPLOAD_RETRY, UPSTREAM_VOLUME_DOWNLOAD_RETRY, UPSTREAM_SET_WEIGHTS_RETRY, UPSTREAM_SLASHING_RETRY])(
    'accepts the shipped policy %#',
    (p) => {
      expect(retryPolicyProblems(p)).toEqual([]);
    },
  );

  it('builds a frozen policy from the defaults and throws RetryPolicyError listing every problem', () => {
    const p = retryPolicy({ maximumAttempts: 3 });
    expect(p).toEqual({ ...DEFAULT_RETRY_POLICY, maximumAttempts: 3 });
    expect(Object.isFrozen(p)).toBe(true);
    expect(() => retryPolicy({ maximumAttempts: 0, initialIntervalMs: -5 })).toThrow(RetryPolicyError);
    try {
      retryPolicy({ maximumAttempts: 0, initialIntervalMs: -5 });
    } catch (error) {
      expect((error as RetryPolicyError).code).toBe('retry.invalid_policy');
      expect((error as RetryPolicyError).problems).toHaveLength(2);
    }
  });
});

describe('retrying', () => {
  const exact = (overrides: Partial<RetryPolicy> = {}): RetryPolicy =>
    policy({ jitter: 'none', initialIntervalMs: 1000, maximumAttempts: 3, ...overrides });

  function recordingMetrics(): RetryMetrics & { log: string[] } {
    const log: string[] = [];
    return {
      log,
      retried: (name) => log.push(`retried ${name}`),
      exhausted: (name, reason) => log.push(`exhausted ${name} ${reason}`),
    };
  }

  it('retries after the policy delays and resolves with the first success', async () => {
    const time = testTime();
    const calls: number[] = [];
    const result = retrying(
      async ({ attempt }) => {
        calls.push(time.xstateClock.now());
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'ok';
      },
      exact(),
      { timers: time.timers },
    );
    await time.advance(999);
    expect(calls).toEqual([0]);
    await time.advance(1);
    expect(calls).toEqual([0, 1000]);
    await time.advance(2000);
    await expect(result).resolves.toBe('ok');
    expect(calls).toEqual([0, 1000, 3000]);
    expect(time.timers.pending).toBe(0);
  });

  it('gives up by rethrowing the last error unchanged and records why', async () => {
    const time = testTime();
    const metrics = recordingMetrics();
    const errors = [new CodedError('upload.http_5xx'), new CodedError('upload.http_5xx'), new CodedError('upload.http_5xx')];
    let attempt = 0;
    const result = retrying(() => Promise.reject(errors[attempt++]!), exact(), { timers: time.timers, metrics, name: 'upload' });
    const settled = result.catch((error: unknown) => error);
    await time.advance(1000);
    await time.advance(2000);
    expect(await settled).toBe(errors[2]);
    expect(attempt).toBe(3);
    expect(metrics.log).toEqual(['retried upload', 'retried upload', 'exhausted upload maximum_attempts']);
  });

  it('does not retry a non-retryable code', async () => {
    const time = testTime();
    const metrics = recordingMetrics();
    let calls = 0;
    const error = new CodedError('upload.http_4xx');
    await expect(
      retrying(
        async () => {
          calls++;
          throw error;
        },
        exact({ nonRetryableCodes: ['upload.http_4xx'] }),
        { timers: time.timers, metrics },
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
    expect(metrics.log).toEqual(['exhausted unnamed non_retryable']);
  });

  it('tells onRetry about each retry before waiting', async () => {
    const time = testTime();
    const seen: Array<{ attempt: number; delayMs: number }> = [];
    const result = retrying(
      async ({ attempt }) => {
        if (attempt === 1) throw new Error('once');
        return attempt;
      },
      exact(),
      { timers: time.timers, onRetry: ({ attempt, delayMs }) => seen.push({ attempt, delayMs }) },
    );
    await time.advance(1000);
    await expect(result).resolves.toBe(2);
    expect(seen).toEqual([{ attempt: 1, delayMs: 1000 }]);
  });

  it('cancels the wait between attempts when aborted, leaving no timer', async () => {
    const time = testTime();
    const controller = new AbortController();
    let calls = 0;
    const result = retrying(
      async () => {
        calls++;
        throw new Error('down');
      },
      exact({ maximumAttempts: 10 }),
      { timers: time.timers, signal: controller.signal },
    );
    const settled = result.catch((error: unknown) => error);
    await time.advance(500);
    expect(time.timers.pending).toBe(1);
    controller.abort('shutting down');
    const error = await settled;
    expect(error).toBeInstanceOf(RetryAbortedError);
    expect((error as RetryAbortedError).cause).toBe('shutting down');
    expect(time.timers.pending).toBe(0);
    await time.advance(10_000);
    expect(calls).toBe(1);
  });

  it("aborts the in-flight attempt's signal and ignores its late result", async () => {
    const time = testTime();
    const controller = new AbortController();
    let attemptSignal: AbortSignal | undefined;
    let finishLate: ((value: string) => void) | undefined;
    const result = retrying(
      ({ signal }) => {
        attemptSignal = signal;
        return new Promise<string>((resolve) => {
          finishLate = resolve;
        });
      },
      exact(),
      { timers: time.timers, signal: controller.signal },
    );
    await flush();
    controller.abort();
    await expect(result).rejects.toBeInstanceOf(RetryAbortedError);
    expect(attemptSignal?.aborted).toBe(true);
    finishLate?.('too late');
    await flush();
  });

  it('rejects at once, without an attempt, when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const fn = jest.fn(async () => 'never');
    await expect(retrying(fn, exact(), { signal: controller.signal })).rejects.toBeInstanceOf(RetryAbortedError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('times out a stalled attempt, aborts its signal, and retries it', async () => {
    const time = testTime();
    const reasons: unknown[] = [];
    const result = retrying(
      ({ attempt, signal }) => {
        if (attempt === 2) return Promise.resolve('second time lucky');
        signal.addEventListener('abort', () => reasons.push(signal.reason));
        return new Promise<string>(() => {});
      },
      exact(),
      { timers: time.timers, attemptTimeoutMs: 300 },
    );
    await time.advance(300);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(AttemptTimeoutError);
    expect((reasons[0] as AttemptTimeoutError).code).toBe('retry.attempt_timeout');
    await time.advance(1000);
    await expect(result).resolves.toBe('second time lucky');
    expect(time.timers.pending).toBe(0);
  });

  it('treats a synchronous throw like a rejection', async () => {
    const time = testTime();
    let calls = 0;
    const result = retrying(
      (() => {
        calls++;
        if (calls === 1) throw new Error('sync');
        return Promise.resolve('ok');
      }),
      exact(),
      { timers: time.timers },
    );
    await time.advance(1000);
    await expect(result).resolves.toBe('ok');
  });

  it('refuses an invalid policy before the first attempt', async () => {
    const fn = jest.fn(async () => 'never');
    await expect(retrying(fn, policy({ maximumAttempts: 0 }))).rejects.toBeInstanceOf(RetryPolicyError);
    await expect(retrying(fn, exact(), { attemptTimeoutMs: -1 })).rejects.toBeInstanceOf(RetryPolicyError);
    expect(fn).not.toHaveBeenCalled();
  });
});
