/**
 * Circuit breaker: pure transitions over a small immutable record, and `CircuitBreaker`, a plain class around them
 * for effect code that keeps many breakers (the validator's manifest fetcher keeps one per miner). The observable
 * variant, `circuitBreakerMachine` (src/machines/circuitBreaker.machine.ts), runs the same functions.
 *
 * Trip rule (one of the two the brief allowed): **`failureThreshold` failures within a sliding `failureWindowMs`**.
 * Successes do not reset the count: a peer failing 5 calls out of 100 in a minute is still failing 5 calls a
 * minute. A failure ratio with a minimum call count needs a per-breaker bucket array and adapts poorly to the
 * low, bursty call rates per miner here (one manifest fetch every few minutes); a count is exact with a ring of
 * `failureThreshold` timestamps.
 *
 * Lifecycle: `closed` (calls pass, failures counted) → `open` (calls refused for the cool-down) → `half_open` (up to
 * `halfOpenProbes` calls admitted as probes) → `closed` when every probe succeeded, or back to `open` on the first
 * failed probe with the cool-down multiplied by `coolDownMultiplier` (capped at `maxCoolDownMs`).
 *
 * Every phase change bumps `generation`. An admission carries the generation it was granted in, and outcomes
 * reported with a generation from an earlier phase are ignored: a slow call admitted while closed cannot pose as a
 * probe result, and stragglers failing after the breaker opened do not extend anything.
 */
import { backoffCeilingMs } from '../util/backoff';
import { systemClock, type Clock } from '../util/clock';
import { DEFAULT_CIRCUIT_BREAKER_POLICY } from './defaults';
import { CircuitOpenError, CircuitPolicyError } from './errors';
import type { CircuitMetrics } from './metrics';

/** `closed`: calls pass. `open`: calls are refused until the cool-down ends. `half_open`: a few probes may pass. */
export type CircuitPhase = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerPolicy {
  /** Failures within `failureWindowMs` that open the breaker (>= 1). */
  readonly failureThreshold: number;
  readonly failureWindowMs: number;
  /** First cool-down after opening from closed. */
  readonly coolDownMs: number;
  /** Growth of the cool-down per consecutive re-open (>= 1). */
  readonly coolDownMultiplier: number;
  readonly maxCoolDownMs: number;
  /** Probes admitted in half-open; all must succeed to close (>= 1). */
  readonly halfOpenProbes: number;
  /** A probe silent this long frees its slot. */
  readonly probeTimeoutMs: number;
}

/** The whole state of one breaker: a few numbers and two short arrays. */
export interface CircuitState {
  readonly phase: CircuitPhase;
  /** Bumped on every phase change. */
  readonly generation: number;
  /** `closed`: times of recent failures, oldest first, at most `failureThreshold` of them. */
  readonly failureTimesMs: readonly number[];
  /** `open`: when it opened. */
  readonly openedAtMs: number;
  /** `open`: the cool-down in force. */
  readonly coolDownMs: number;
  /** Opens since the breaker last closed (0 while closed); drives the cool-down growth. */
  readonly consecutiveOpens: number;
  /** `half_open`: admission times of probes still awaiting an outcome. */
  readonly probeStartsMs: readonly number[];
  /** `half_open`: probes that succeeded. */
  readonly probeSuccesses: number;
}

/** The answer to "may this call go?". Report its outcome with the same `generation`. */
export type Admission =
  | { readonly allowed: true; readonly generation: number; readonly probe: boolean }
  | { readonly allowed: false; readonly retryInMs: number };

/** One phase change, as reported to listeners and metrics. */
export interface CircuitTransition {
  readonly name: string;
  readonly from: CircuitPhase;
  readonly to: CircuitPhase;
  readonly atMs: number;
}

const POLICY_FIELDS: ReadonlyArray<[keyof CircuitBreakerPolicy, 'int>=1' | '>=0' | '>0' | '>=1']> = [
  ['failureThreshold', 'int>=1'],
  ['failureWindowMs', '>0'],
  ['coolDownMs', '>=0'],
  ['coolDownMultiplier', '>=1'],
  ['maxCoolDownMs', '>=0'],
  ['halfOpenProbes', 'int>=1'],
  ['probeTimeoutMs', '>0'],
];

/** Every problem with a would-be breaker policy (empty when valid). */
export function circuitPolicyProblems(policy: unknown, path = 'circuitBreaker'): string[] {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) return [`${path} must be an object`];
  const p = policy as Record<string, unknown>;
  const known = new Set(POLICY_FIELDS.map(([key]) => key as string));
  const problems = Object.keys(p)
    .filter((key) => !known.has(key))
    .map((key) => `${path}.${key} is not a circuit breaker policy field`);
  for (const [key, rule] of POLICY_FIELDS) {
    const value = p[key];
    const finite = typeof value === 'number' && Number.isFinite(value);
    if (rule === 'int>=1' && !(finite && Number.isInteger(value) && value >= 1))
      problems.push(`${path}.${key} must be an integer >= 1`);
    if (rule === '>=0' && !(finite && value >= 0)) problems.push(`${path}.${key} must be a finite number >= 0`);
    if (rule === '>0' && !(finite && value > 0)) problems.push(`${path}.${key} must be a finite number > 0`);
    if (rule === '>=1' && !(finite && value >= 1)) problems.push(`${path}.${key} must be a finite number >= 1`);
  }
  const { coolDownMs, maxCoolDownMs } = p;
  if (typeof coolDownMs === 'number' && typeof maxCoolDownMs === 'number' && maxCoolDownMs < coolDownMs)
    problems.push(`${path}.maxCoolDownMs (${maxCoolDownMs}) cannot be less than coolDownMs (${coolDownMs})`);
  return problems;
}

/**
 * A validated, frozen policy: the defaults overridden by `overrides`. Throws `CircuitPolicyError` listing every
 * problem.
 *
 * @example
 * ```ts
 * const policy = circuitBreakerPolicy({ failureThreshold: 3, failureWindowMs: 20 * 60_000 });
 * ```
 */
export function circuitBreakerPolicy(overrides: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy {
  const merged = { ...DEFAULT_CIRCUIT_BREAKER_POLICY, ...overrides };
  const problems = circuitPolicyProblems(merged);
  if (problems.length > 0) throw new CircuitPolicyError(problems);
  return Object.freeze(merged);
}

/** A closed breaker with no history. */
export function initialCircuitState(): CircuitState {
  return {
    phase: 'closed',
    generation: 0,
    failureTimesMs: [],
    openedAtMs: 0,
    coolDownMs: 0,
    consecutiveOpens: 0,
    probeStartsMs: [],
    probeSuccesses: 0,
  };
}

/** Cool-down for the `consecutiveOpens`-th open in a row (1-based): `coolDownMs × multiplier^(n-1)`, capped. */
export function circuitCoolDownMs(policy: CircuitBreakerPolicy, consecutiveOpens: number): number {
  return backoffCeilingMs(
    { baseMs: policy.coolDownMs, capMs: policy.maxCoolDownMs, multiplier: policy.coolDownMultiplier },
    consecutiveOpens,
  );
}

/** Opens the breaker now (from any phase); the cool-down grows with each open since the last close. */
export function openCircuit(policy: CircuitBreakerPolicy, state: CircuitState, nowMs: number): CircuitState {
  const consecutiveOpens = state.consecutiveOpens + 1;
  return {
    phase: 'open',
    generation: state.generation + 1,
    failureTimesMs: [],
    openedAtMs: nowMs,
    coolDownMs: circuitCoolDownMs(policy, consecutiveOpens),
    consecutiveOpens,
    probeStartsMs: [],
    probeSuccesses: 0,
  };
}

/** Moves an open breaker to half-open (its cool-down is over). Other phases are returned unchanged. */
export function halfOpenCircuit(state: CircuitState): CircuitState {
  if (state.phase !== 'open') return state;
  return { ...state, phase: 'half_open', generation: state.generation + 1, probeStartsMs: [], probeSuccesses: 0 };
}

/** Closes the breaker and forgets its history (a successful probe round, or an operator's reset). */
export function closeCircuit(state: CircuitState): CircuitState {
  if (state.phase === 'closed') return state.failureTimesMs.length === 0 ? state : { ...state, failureTimesMs: [] };
  return { ...initialCircuitState(), generation: state.generation + 1 };
}

/** When an open breaker's cool-down ends (`Infinity` for other phases). */
export function coolDownEndsAtMs(state: CircuitState): number {
  return state.phase === 'open' ? state.openedAtMs + state.coolDownMs : Number.POSITIVE_INFINITY;
}

/** Frees the probe slots of probes silent for `probeTimeoutMs` or more. */
export function releaseStaleProbes(policy: CircuitBreakerPolicy, state: CircuitState, nowMs: number): CircuitState {
  if (state.phase !== 'half_open' || state.probeStartsMs.length === 0) return state;
  const live = state.probeStartsMs.filter((startMs) => nowMs - startMs < policy.probeTimeoutMs);
  return live.length === state.probeStartsMs.length ? state : { ...state, probeStartsMs: live };
}

/**
 * Applies the passage of time: an open breaker whose cool-down has ended becomes half-open, and stale probes are
 * released. Returns the same object when nothing changed. Call it before the other operations when time is read
 * lazily (`CircuitBreaker` does); the machine applies the cool-down with a timer instead.
 */
export function tickCircuit(policy: CircuitBreakerPolicy, state: CircuitState, nowMs: number): CircuitState {
  const afterCoolDown = nowMs >= coolDownEndsAtMs(state) ? halfOpenCircuit(state) : state;
  return releaseStaleProbes(policy, afterCoolDown, nowMs);
}

/** Decides whether a call may go now, on a state already ticked to `nowMs`. */
export function admitRequest(
  policy: CircuitBreakerPolicy,
  state: CircuitState,
  nowMs: number,
): { state: CircuitState; admission: Admission } {
  switch (state.phase) {
    case 'closed':
      return { state, admission: { allowed: true, generation: state.generation, probe: false } };
    case 'open':
      return { state, admission: { allowed: false, retryInMs: Math.max(0, coolDownEndsAtMs(state) - nowMs) } };
    case 'half_open': {
      if (state.probeStartsMs.length < policy.halfOpenProbes) {
        return {
          state: { ...state, probeStartsMs: [...state.probeStartsMs, nowMs] },
          admission: { allowed: true, generation: state.generation, probe: true },
        };
      }
      const oldestMs = Math.min(...state.probeStartsMs);
      return { state, admission: { allowed: false, retryInMs: Math.max(0, oldestMs + policy.probeTimeoutMs - nowMs) } };
    }
    default:
      return assertNever(state.phase);
  }
}

/**
 * Records a successful call. Closed and open breakers ignore it; in half-open it completes one probe and closes the
 * breaker once `halfOpenProbes` probes succeeded. An outcome whose `generation` is not the current one is ignored;
 * without a generation it is taken to belong to the current phase.
 */
export function recordSuccess(
  policy: CircuitBreakerPolicy,
  state: CircuitState,
  generation?: number,
): CircuitState {
  if (generation !== undefined && generation !== state.generation) return state;
  if (state.phase !== 'half_open') return state;
  const probeSuccesses = state.probeSuccesses + 1;
  if (probeSuccesses >= policy.halfOpenProbes) return closeCircuit(state);
  return { ...state, probeStartsMs: state.probeStartsMs.slice(1), probeSuccesses };
}

/**
 * Records a failed call. Closed: counted, and the breaker opens when `failureThreshold` failures fall within
 * `failureWindowMs`. Half-open: re-opens at once with a longer cool-down. Open: ignored. Stale generations are
 * ignored as in `recordSuccess`.
 */
export function recordFailure(
  policy: CircuitBreakerPolicy,
  state: CircuitState,
  nowMs: number,
  generation?: number,
): CircuitState {
  if (generation !== undefined && generation !== state.generation) return state;
  switch (state.phase) {
    case 'open':
      return state;
    case 'half_open':
      return openCircuit(policy, state, nowMs);
    case 'closed': {
      const recent = state.failureTimesMs.filter((atMs) => nowMs - atMs < policy.failureWindowMs);
      recent.push(nowMs);
      if (recent.length >= policy.failureThreshold) return openCircuit(policy, state, nowMs);
      return { ...state, failureTimesMs: recent };
    }
    default:
      return assertNever(state.phase);
  }
}

function assertNever(value: never): never {
  throw new Error(`unreachable circuit phase ${String(value)}`);
}

/** Numeric encoding of a phase for the `horde_circuit_state` gauge. */
export const CIRCUIT_PHASE_GAUGE_VALUE: Readonly<Record<CircuitPhase, number>> = Object.freeze({
  closed: 0,
  half_open: 1,
  open: 2,
});

export interface CircuitBreakerOptions {
  /** Label for metrics and errors (a miner hotkey, a host). */
  readonly name: string;
  readonly policy?: Partial<CircuitBreakerPolicy>;
  /** Defaults to the system clock. */
  readonly clock?: Clock;
  /** Defaults to no metrics; pass `circuitMetrics()` (one shared instance for every breaker). */
  readonly metrics?: CircuitMetrics;
  /** Told about every phase change, synchronously (must not throw). */
  readonly onTransition?: (transition: CircuitTransition) => void;
}

/**
 * A circuit breaker as a plain object: a name, a policy and one `CircuitState`, with time read lazily from the
 * injected clock (no timers, so thousands cost nothing while idle and nothing needs stopping).
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ name: minerHotkey, policy: { failureWindowMs: 20 * 60_000 }, metrics });
 * const manifest = await breaker.run(() => fetchManifest(minerHotkey, signal)); // throws CircuitOpenError when open
 * ```
 */
export class CircuitBreaker {
  readonly name: string;
  readonly policy: CircuitBreakerPolicy;
  private readonly clock: Clock;
  private readonly metrics: CircuitMetrics | undefined;
  private readonly onTransition: ((transition: CircuitTransition) => void) | undefined;
  private current: CircuitState = initialCircuitState();

  constructor(options: CircuitBreakerOptions) {
    this.name = options.name;
    this.policy = circuitBreakerPolicy(options.policy);
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.onTransition = options.onTransition;
    this.metrics?.phase(this.name, this.current.phase);
  }

  /** The state as of now (time applied). */
  get state(): CircuitState {
    this.tick(this.clock.nowMs());
    return this.current;
  }

  get phase(): CircuitPhase {
    return this.state.phase;
  }

  /** Asks to make a call; report its outcome with `recordSuccess`/`recordFailure(admission.generation)`. */
  tryAcquire(): Admission {
    const nowMs = this.clock.nowMs();
    this.tick(nowMs);
    const { state, admission } = admitRequest(this.policy, this.current, nowMs);
    this.current = state;
    if (!admission.allowed) this.metrics?.rejected(this.name);
    return admission;
  }

  /** `tryAcquire().allowed`, for callers that report outcomes without a generation. */
  allowRequest(): boolean {
    return this.tryAcquire().allowed;
  }

  recordSuccess(generation?: number): void {
    const nowMs = this.clock.nowMs();
    this.tick(nowMs);
    this.apply(recordSuccess(this.policy, this.current, generation), nowMs);
  }

  recordFailure(generation?: number): void {
    const nowMs = this.clock.nowMs();
    this.tick(nowMs);
    this.apply(recordFailure(this.policy, this.current, nowMs, generation), nowMs);
  }

  /** Forces the breaker open (an operator, or a peer that announced it is going away). */
  trip(): void {
    const nowMs = this.clock.nowMs();
    this.apply(openCircuit(this.policy, this.current, nowMs), nowMs);
  }

  /** Forces the breaker closed and forgets its history. */
  reset(): void {
    this.apply(closeCircuit(this.current), this.clock.nowMs());
  }

  /**
   * Runs `fn` if admitted, reporting its outcome; refuses with `CircuitOpenError` otherwise. `isFailure` decides
   * which errors count against the peer (default: all); an excused rejection counts as a success (the peer
   * answered, e.g. with a 404) and is still rethrown.
   */
  async run<T>(fn: () => Promise<T>, isFailure: (error: unknown) => boolean = () => true): Promise<T> {
    const admission = this.tryAcquire();
    if (!admission.allowed) throw new CircuitOpenError(this.name, admission.retryInMs);
    try {
      const value = await fn();
      this.recordSuccess(admission.generation);
      return value;
    } catch (error) {
      if (isFailure(error)) this.recordFailure(admission.generation);
      else this.recordSuccess(admission.generation);
      throw error;
    }
  }

  private tick(nowMs: number): void {
    this.apply(tickCircuit(this.policy, this.current, nowMs), nowMs);
  }

  private apply(next: CircuitState, nowMs: number): void {
    const previous = this.current;
    this.current = next;
    if (previous.phase === next.phase) return;
    const transition: CircuitTransition = { name: this.name, from: previous.phase, to: next.phase, atMs: nowMs };
    this.metrics?.transition(transition);
    this.onTransition?.(transition);
  }
}
