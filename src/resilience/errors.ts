import { HordeError } from '../util/errors';

/**
 * A retry policy failed validation. `problems` lists every fault at once (Temporal's `compileRetryPolicy` stops at
 * the first; listing all saves a round trip when a config file is wrong in several places).
 */
export class RetryPolicyError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('retry.invalid_policy', `invalid retry policy: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/**
 * `retrying()` gave up because its AbortSignal fired (a stopped actor, a deadline). The signal's reason is the
 * `cause`. Usually expected: the caller that aborted rarely looks at this error.
 */
export class RetryAbortedError extends HordeError {
  constructor(cause: unknown) {
    super('retry.aborted', 'retrying was aborted', { cause });
  }
}

/**
 * One attempt ran past `attemptTimeoutMs` (Temporal's start-to-close timeout). Its signal was aborted with this
 * error; it counts as a failed attempt and is retried like any other unless its code is listed as non-retryable.
 * Usually a stalled peer or a transfer slower than the budget.
 */
export class AttemptTimeoutError extends HordeError {
  readonly attempt: number;
  readonly timeoutMs: number;

  constructor(attempt: number, timeoutMs: number) {
    super('retry.attempt_timeout', `attempt ${attempt} did not finish within ${timeoutMs} ms`);
    this.attempt = attempt;
    this.timeoutMs = timeoutMs;
  }
}

/** `admitThrough` got no answer: the breaker actor is not running (stopped, or never started). */
export class CircuitNotRunningError extends HordeError {
  constructor(breaker: string) {
    super('circuit.not_running', `circuit breaker '${breaker}' is not running, so it cannot admit requests`);
  }
}

/** A circuit breaker policy failed validation; `problems` lists every fault. */
export class CircuitPolicyError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('circuit.invalid_policy', `invalid circuit breaker policy: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/**
 * A call was refused without being attempted because the breaker `name` is open (or half-open with every probe
 * slot taken). `retryInMs` says when a request could next be admitted. The usual cause is a peer that failed
 * `failureThreshold` times within `failureWindowMs`.
 */
export class CircuitOpenError extends HordeError {
  readonly breaker: string;
  readonly retryInMs: number;

  constructor(breaker: string, retryInMs: number) {
    super('circuit.open', `circuit '${breaker}' is open; next request admitted in ${retryInMs} ms`);
    this.breaker = breaker;
    this.retryInMs = retryInMs;
  }
}
