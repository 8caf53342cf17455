/**
 * Retry policy as data (Temporal's shape), the pure decision `nextRetry`, and `retrying()`, the loop effect code
 * (uploads, downloads, chain calls) runs its attempts in.
 *
 * Retries here are a caller's policy for one operation. Restarting an actor is the supervisor's business
 * (src/supervisors), and re-running a whole job is the SDK's (upstream stopped validator-side job retries, PR #395).
 */
import { backoffCeilingMs } from '../util/backoff';
import { systemRandom, type Random } from '../util/clock';
import { errorCode } from '../util/errors';
import { ALWAYS_NON_RETRYABLE_CODES, DEFAULT_RETRY_POLICY } from './defaults';
import { AttemptTimeoutError, RetryAbortedError, RetryPolicyError } from './errors';
import type { RetryMetrics } from './metrics';

/** How each delay is randomised: `'full'` draws in [0, ceiling), `'none'` waits the ceiling exactly, `{ ratio }`
 * stretches the ceiling by ×(1 + U(0, ratio)) (upstream's volume downloads use ratio 0.1). */
export type RetryJitter = 'full' | 'none' | { readonly ratio: number };

/**
 * A retry policy. Plain data: it can come from a config file, and `validateRetryPolicy` says precisely what is wrong
 * with it.
 *
 * The delay after failed attempt `n` (1-based) has the ceiling `min(maximumIntervalMs, initialIntervalMs ×
 * backoffCoefficient^(n-1))`, randomised by `jitter`. With `{ ratio }` the stretched delay may exceed
 * `maximumIntervalMs` by up to that ratio (so the upstream 1, 2, 4 s × 1.1 presets keep their exact shape).
 *
 * @example
 * ```ts
 * const policy = retryPolicy({ maximumAttempts: 3, nonRetryableCodes: ['upload.http_4xx'] });
 * ```
 */
export interface RetryPolicy {
  /** Ceiling of the delay after the first failure. */
  readonly initialIntervalMs: number;
  /** Growth of the ceiling per failed attempt (>= 1; 1 keeps it constant). */
  readonly backoffCoefficient: number;
  /** No ceiling exceeds this. */
  readonly maximumIntervalMs: number;
  /** Attempts in total, the first included (>= 1; `Infinity` for unlimited, `1` for no retry). */
  readonly maximumAttempts: number;
  readonly jitter: RetryJitter;
  /** Error codes (as read by `errorCode()`, exact match) that end the chain at once. */
  readonly nonRetryableCodes: readonly string[];
}

/** What to do after a failed attempt. */
export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number; readonly nextAttempt: number }
  | { readonly retry: false; readonly reason: 'non_retryable' | 'maximum_attempts'; readonly code: string };

const POLICY_KEYS: ReadonlySet<string> = new Set([
  'initialIntervalMs',
  'backoffCoefficient',
  'maximumIntervalMs',
  'maximumAttempts',
  'jitter',
  'nonRetryableCodes',
]);

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * Every problem with a would-be policy, as precise sentences (empty when valid). Accepts `unknown` so that it can
 * check a parsed config file; unknown fields are reported because a misspelt `maxAttempts` would otherwise be
 * ignored in silence.
 */
export function retryPolicyProblems(policy: unknown, path = 'retryPolicy'): string[] {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) return [`${path} must be an object`];
  const p = policy as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(p)) if (!POLICY_KEYS.has(key)) problems.push(`${path}.${key} is not a retry policy field`);

  const initial = p.initialIntervalMs;
  if (!isFiniteNumber(initial) || initial < 0) problems.push(`${path}.initialIntervalMs must be a finite number >= 0`);
  const coefficient = p.backoffCoefficient;
  if (!isFiniteNumber(coefficient) || coefficient < 1)
    problems.push(`${path}.backoffCoefficient must be a finite number >= 1`);
  const maximum = p.maximumIntervalMs;
  if (!isFiniteNumber(maximum) || maximum < 0) problems.push(`${path}.maximumIntervalMs must be a finite number >= 0`);
  else if (isFiniteNumber(initial) && maximum < initial)
    problems.push(`${path}.maximumIntervalMs (${maximum}) cannot be less than initialIntervalMs (${initial})`);
  const attempts = p.maximumAttempts;
  if (
    typeof attempts !== 'number' ||
    !(attempts === Number.POSITIVE_INFINITY || (Number.isInteger(attempts) && attempts >= 1))
  )
    problems.push(
      `${path}.maximumAttempts must be an integer >= 1 or Infinity (1 disables retries; Temporal's 0-means-unlimited is not accepted)`,
    );

  const jitter = p.jitter;
  if (jitter !== 'full' && jitter !== 'none') {
    if (typeof jitter === 'object' && jitter !== null && !Array.isArray(jitter)) {
      const ratio = (jitter as Record<string, unknown>).ratio;
      if (!isFiniteNumber(ratio) || ratio < 0 || ratio > 1)
        problems.push(`${path}.jitter.ratio must be a number between 0 and 1`);
      for (const key of Object.keys(jitter)) if (key !== 'ratio') problems.push(`${path}.jitter.${key} is not a jitter field`);
    } else problems.push(`${path}.jitter must be 'full', 'none' or { ratio }`);
  }

  const codes = p.nonRetryableCodes;
  if (!Array.isArray(codes)) problems.push(`${path}.nonRetryableCodes must be an array of error codes`);
  else
    codes.forEach((code, i) => {
      if (typeof code !== 'string' || code.length === 0)
        problems.push(`${path}.nonRetryableCodes[${i}] must be a non-empty string`);
    });
  return problems;
}

/** Throws `RetryPolicyError` listing every problem, or returns the policy typed. */
export function validateRetryPolicy(policy: unknown): RetryPolicy {
  const problems = retryPolicyProblems(policy);
  if (problems.length > 0) throw new RetryPolicyError(problems);
  return policy as RetryPolicy;
}

/**
 * A validated, frozen policy: the defaults (src/resilience/defaults.ts) overridden by `overrides`.
 *
 * @example
 * ```ts
 * const once = retryPolicy({ maximumAttempts: 1 }); // no retries
 * ```
 */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const merged = { ...DEFAULT_RETRY_POLICY, ...overrides };
  validateRetryPolicy(merged);
  return Object.freeze({ ...merged, nonRetryableCodes: Object.freeze([...merged.nonRetryableCodes]) });
}

/** The un-jittered delay after failed attempt `attempt` (1-based). Overflow-safe. */
export function retryCeilingMs(policy: RetryPolicy, attempt: number): number {
  return backoffCeilingMs(
    { baseMs: policy.initialIntervalMs, capMs: policy.maximumIntervalMs, multiplier: policy.backoffCoefficient },
    attempt,
  );
}

/** Applies the policy's jitter to a ceiling, drawing once from `random`. Always an integer number of ms. */
export function jitteredDelayMs(jitter: RetryJitter, ceilingMs: number, random: Random): number {
  if (jitter === 'none') return Math.round(ceilingMs);
  if (jitter === 'full') return Math.floor(random() * ceilingMs);
  return Math.round(ceilingMs * (1 + random() * jitter.ratio));
}

/**
 * Decides, purely, what follows failed attempt `attempt` (1-based) that threw `error`: a retry after `delayMs`,
 * or giving up. A non-retryable code wins over the attempt count (it is the more telling reason). `random` is
 * drawn at most once, and only when a retry is decided.
 *
 * @example
 * ```ts
 * const d = nextRetry(UPSTREAM_OUTPUT_UPLOAD_RETRY, 1, new Error('boom'), seededRandom(1));
 * // { retry: true, delayMs: 1000, nextAttempt: 2 }
 * ```
 */
export function nextRetry(policy: RetryPolicy, attempt: number, error: unknown, random: Random): RetryDecision {
  const code = errorCode(error);
  if (policy.nonRetryableCodes.includes(code) || ALWAYS_NON_RETRYABLE_CODES.includes(code))
    return { retry: false, reason: 'non_retryable', code };
  if (attempt >= policy.maximumAttempts) return { retry: false, reason: 'maximum_attempts', code };
  const delayMs = jitteredDelayMs(policy.jitter, retryCeilingMs(policy, attempt), random);
  return { retry: true, delayMs, nextAttempt: attempt + 1 };
}

/** The timer half of a clock. Node's globals fit, and so does XState's `SimulatedClock` (tests advance it). */
export interface Timers {
  setTimeout(fn: () => void, timeoutMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's own timers. */
export const systemTimers: Timers = {
  setTimeout: (fn, timeoutMs) => setTimeout(fn, timeoutMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What one attempt is given. */
export interface AttemptContext {
  /** 1-based. */
  readonly attempt: number;
  /** Aborted when the caller's signal aborts or the attempt overruns `attemptTimeoutMs`. Pass it to the IO. */
  readonly signal: AbortSignal;
}

export interface RetryingOptions {
  /** Aborting cancels the wait between attempts and aborts the in-flight attempt's signal. */
  readonly signal?: AbortSignal;
  /** Defaults to Node's timers. */
  readonly timers?: Timers;
  /** Defaults to `Math.random` (through `systemRandom`). */
  readonly random?: Random;
  /** Bound on each attempt (Temporal's start-to-close). Unset: attempts are unbounded. */
  readonly attemptTimeoutMs?: number;
  /** Told about every retry before its wait starts (for logs; must not throw). */
  readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly error: unknown }) => void;
  /** Label for metrics (`horde_retry_retries_total{name}`). */
  readonly name?: string;
  /** Defaults to no metrics. */
  readonly metrics?: RetryMetrics;
}

/**
 * Runs `fn` until it resolves, the policy gives up, or `signal` aborts.
 *
 * - Gives up by rethrowing the last attempt's error unchanged (its code stays matchable by the caller).
 * - Aborting rejects at once with `RetryAbortedError` (cause: the signal's reason) and aborts the in-flight
 *   attempt's signal; whatever that attempt later resolves or rejects with is ignored.
 * - An attempt that overruns `attemptTimeoutMs` has its signal aborted with `AttemptTimeoutError` and counts as a
 *   failed attempt; like an aborted one, its late result is ignored.
 *
 * @example
 * ```ts
 * const body = await retrying(({ signal }) => fetch(url, { signal }).then((r) => r.text()), UPSTREAM_VOLUME_DOWNLOAD_RETRY, {
 *   signal, attemptTimeoutMs: 30_000, name: 'volume_download',
 * });
 * ```
 */
export async function retrying<T>(
  fn: (context: AttemptContext) => Promise<T>,
  policy: RetryPolicy,
  options: RetryingOptions = {},
): Promise<T> {
  validateRetryPolicy(policy);
  const { signal, timers = systemTimers, random = systemRandom, attemptTimeoutMs, onRetry, metrics } = options;
  const name = options.name ?? 'unnamed';
  if (attemptTimeoutMs !== undefined && !(isFiniteNumber(attemptTimeoutMs) && attemptTimeoutMs > 0))
    throw new RetryPolicyError([`attemptTimeoutMs must be a finite number > 0 (got ${String(attemptTimeoutMs)})`]);
  if (signal?.aborted) throw new RetryAbortedError(signal.reason);

  for (let attempt = 1; ; attempt++) {
    try {
      return await runAttempt(fn, attempt, signal, timers, attemptTimeoutMs);
    } catch (error) {
      if (signal?.aborted) throw error instanceof RetryAbortedError ? error : new RetryAbortedError(signal.reason);
      const decision = nextRetry(policy, attempt, error, random);
      if (!decision.retry) {
        metrics?.exhausted(name, decision.reason);
        throw error;
      }
      metrics?.retried(name);
      onRetry?.({ attempt, delayMs: decision.delayMs, error });
      await abortableSleep(decision.delayMs, signal, timers);
    }
  }
}

function runAttempt<T>(
  fn: (context: AttemptContext) => Promise<T>,
  attempt: number,
  outer: AbortSignal | undefined,
  timers: Timers,
  attemptTimeoutMs: number | undefined,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const controller = new AbortController();
    let settled = false;
    let timer: unknown;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      outer?.removeEventListener('abort', onOuterAbort);
      if (timer !== undefined) timers.clearTimeout(timer);
      return true;
    };
    function onOuterAbort(): void {
      controller.abort(outer?.reason);
      if (finish()) reject(new RetryAbortedError(outer?.reason));
    }
    outer?.addEventListener('abort', onOuterAbort, { once: true });
    if (attemptTimeoutMs !== undefined) {
      timer = timers.setTimeout(() => {
        const timeout = new AttemptTimeoutError(attempt, attemptTimeoutMs);
        controller.abort(timeout);
        if (finish()) reject(timeout);
      }, attemptTimeoutMs);
    }
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(fn({ attempt, signal: controller.signal }));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the attempt's error, kept as thrown
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (error: unknown) => {
        // A late rejection after abort/timeout is the expected echo of our own abort: ignored by design.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrown unchanged for errorCode()
        if (finish()) reject(error);
      },
    );
  });
}

function abortableSleep(delayMs: number, signal: AbortSignal | undefined, timers: Timers): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      timers.clearTimeout(handle);
      reject(new RetryAbortedError(signal?.reason));
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
