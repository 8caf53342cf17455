import type { AnyActorLogic, InputFrom } from 'xstate';
import { SupervisorPolicyError } from './errors';

/**
 * Which children restart when one of them fails (OTP's strategies):
 * - `one_for_one`: only the failed child;
 * - `one_for_all`: every child (the others are stopped first, in reverse start order);
 * - `rest_for_one`: the failed child and every child started after it (they depend on it).
 */
export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

/**
 * When a child is restarted (OTP's restart types):
 * - `permanent`: always, even after it completed normally (a service that must keep running);
 * - `transient`: only after an error, not after normal completion (a task that must finish once);
 * - `temporary`: never, not even when a sibling's failure takes it down (per-job, per-connection actors).
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/**
 * What a supervisor does about one failure. See `decider.ts` for the defaults and `supervisor.machine.ts` for the
 * exact meaning of `resume` (an XState actor that failed is dead, so it cannot keep its state).
 */
export type Directive = 'resume' | 'restart' | 'stop' | 'escalate';

/**
 * Classifies an error ("what failed"); the strategy and restart type decide the rest ("what to do").
 * Return `undefined` to let the child's restart type decide.
 */
export type Decider = (error: unknown) => Directive | undefined;

/**
 * Delay between a failure and the restart: exponential with full jitter, drawn between `minMs` and a ceiling that
 * doubles with each consecutive restart of the child, capped at `maxMs`.
 */
export interface RestartBackoff {
  /** Shortest delay, and the base of the exponential ceiling. Must be > 0. */
  minMs: number;
  /** Longest delay. */
  maxMs: number;
  /** A child that ran this long without failing starts over at the first attempt. */
  resetAfterMs: number;
}

/** How a supervisor reacts to failures. Data, validated when the supervisor starts (`validatePolicy`). */
export interface SupervisorPolicy {
  strategy: Strategy;
  /** Restarts tolerated within `periodMs`; one more and the supervisor escalates. 0 = never restart. */
  intensity: number;
  /** The sliding window for `intensity`, in milliseconds. */
  periodMs: number;
  /** Without it, restarts are immediate (as in OTP). */
  backoff?: RestartBackoff;
  decider?: Decider;
}

/** One supervised child. */
export interface ChildSpec<L extends AnyActorLogic = AnyActorLogic> {
  /** Unique among the supervisor's children; the child is `snapshot.children[id]`. */
  id: string;
  logic: L;
  input?: InputFrom<L>;
  restart: RestartType;
  /**
   * How long the child may take to finish after it is sent `{ type: 'supervisor.shutdown' }`; then it is stopped
   * by force. 0 stops it by force at once (OTP's `brutal_kill`).
   */
  shutdownMs: number;
  /** Registers the child in the actor system (`system.get(systemId)`); unique in the whole system. */
  systemId?: string;
}

const STRATEGIES: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];
const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary'];

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  return Array.isArray(value) ? 'an array' : 'an object';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isActorLogic(value: unknown): boolean {
  return isRecord(value) && typeof value.transition === 'function' && typeof value.getInitialSnapshot === 'function';
}

/**
 * Problems with one child spec, each naming its field under `path` (`children[2].shutdownMs must be …`).
 * Uniqueness against siblings is checked by `policyProblems` / the supervisor, not here.
 */
export function childSpecProblems(spec: unknown, path = 'spec'): string[] {
  if (!isRecord(spec)) return [`${path} must be an object (got ${show(spec)})`];
  const problems: string[] = [];
  if (typeof spec.id !== 'string' || spec.id.length === 0) {
    problems.push(`${path}.id must be a non-empty string (got ${show(spec.id)})`);
  }
  if (!isActorLogic(spec.logic)) {
    problems.push(
      `${path}.logic must be actor logic (a machine, fromPromise, fromCallback …) (got ${show(spec.logic)})`,
    );
  }
  if (!RESTART_TYPES.includes(spec.restart as RestartType)) {
    problems.push(`${path}.restart must be one of ${RESTART_TYPES.join(' | ')} (got ${show(spec.restart)})`);
  }
  const shutdownMs = spec.shutdownMs;
  if (typeof shutdownMs !== 'number' || !Number.isFinite(shutdownMs) || shutdownMs < 0) {
    problems.push(`${path}.shutdownMs must be a finite number >= 0 (got ${show(shutdownMs)})`);
  }
  if (spec.systemId !== undefined && (typeof spec.systemId !== 'string' || spec.systemId.length === 0)) {
    problems.push(`${path}.systemId must be a non-empty string when given (got ${show(spec.systemId)})`);
  }
  return problems;
}

/** Problems with a restart backoff, each naming its field under `path`. */
export function restartBackoffProblems(backoff: unknown, path = 'policy.backoff'): string[] {
  if (!isRecord(backoff)) return [`${path} must be an object when given (got ${show(backoff)})`];
  const problems: string[] = [];
  const { minMs, maxMs, resetAfterMs } = backoff;
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (!finite(minMs) || minMs <= 0) problems.push(`${path}.minMs must be a finite number > 0 (got ${show(minMs)})`);
  if (!finite(maxMs) || maxMs <= 0) problems.push(`${path}.maxMs must be a finite number > 0 (got ${show(maxMs)})`);
  if (finite(minMs) && finite(maxMs) && minMs > maxMs) {
    problems.push(`${path}.minMs (${minMs}) must be <= ${path}.maxMs (${maxMs})`);
  }
  if (!finite(resetAfterMs) || resetAfterMs < 0) {
    problems.push(`${path}.resetAfterMs must be a finite number >= 0 (got ${show(resetAfterMs)})`);
  }
  return problems;
}

/** Limits of one supervisor besides its policy. */
export interface SupervisorLimits {
  /** Children held at most (static and dynamic); see `DEFAULT_MAX_CHILDREN`. */
  maxChildren?: number;
}

/** Every problem with a policy and its initial children (empty when valid). */
export function policyProblems(policy: unknown, children: unknown = [], limits: SupervisorLimits = {}): string[] {
  const problems: string[] = [];
  const { maxChildren } = limits;
  if (maxChildren !== undefined && (!Number.isInteger(maxChildren) || maxChildren < 1)) {
    problems.push(`maxChildren must be an integer >= 1 (got ${show(maxChildren)})`);
  }
  if (!isRecord(policy)) {
    problems.push(`policy must be an object (got ${show(policy)})`);
  } else {
    if (!STRATEGIES.includes(policy.strategy as Strategy)) {
      problems.push(`policy.strategy must be one of ${STRATEGIES.join(' | ')} (got ${show(policy.strategy)})`);
    }
    const { intensity, periodMs } = policy;
    if (typeof intensity !== 'number' || !Number.isInteger(intensity) || intensity < 0) {
      problems.push(`policy.intensity must be an integer >= 0 (got ${show(intensity)})`);
    }
    if (typeof periodMs !== 'number' || !Number.isFinite(periodMs) || periodMs <= 0) {
      problems.push(`policy.periodMs must be a finite number > 0 (got ${show(periodMs)})`);
    }
    if (policy.backoff !== undefined) problems.push(...restartBackoffProblems(policy.backoff));
    if (policy.decider !== undefined && typeof policy.decider !== 'function') {
      problems.push(`policy.decider must be a function when given (got ${show(policy.decider)})`);
    }
  }
  if (!Array.isArray(children)) {
    problems.push(`children must be an array (got ${show(children)})`);
    return problems;
  }
  if (maxChildren !== undefined && Number.isInteger(maxChildren) && children.length > maxChildren) {
    problems.push(`children has ${children.length} entries, more than maxChildren (${maxChildren})`);
  }
  const firstById = new Map<string, number>();
  const firstBySystemId = new Map<string, number>();
  children.forEach((spec: unknown, index) => {
    const path = `children[${index}]`;
    problems.push(...childSpecProblems(spec, path));
    if (!isRecord(spec)) return;
    if (typeof spec.id === 'string' && spec.id.length > 0) {
      const first = firstById.get(spec.id);
      if (first === undefined) firstById.set(spec.id, index);
      else problems.push(`${path}.id ${show(spec.id)} duplicates children[${first}].id`);
    }
    if (typeof spec.systemId === 'string' && spec.systemId.length > 0) {
      const first = firstBySystemId.get(spec.systemId);
      if (first === undefined) firstBySystemId.set(spec.systemId, index);
      else problems.push(`${path}.systemId ${show(spec.systemId)} duplicates children[${first}].systemId`);
    }
  });
  return problems;
}

/**
 * Checks a policy and its initial children before anything starts.
 *
 * @throws {SupervisorPolicyError} (code `supervisor.invalid_policy`) listing every problem.
 * @example
 * ```ts
 * validatePolicy({ strategy: 'one_for_one', intensity: 5, periodMs: 30_000 }, [
 *   { id: 'link', logic: transportMachine, restart: 'permanent', shutdownMs: 5_000 },
 * ]);
 * ```
 */
export function validatePolicy(
  policy: SupervisorPolicy,
  children: readonly ChildSpec[] = [],
  limits: SupervisorLimits = {},
): void {
  const problems = policyProblems(policy, children, limits);
  if (problems.length > 0) throw new SupervisorPolicyError(problems);
}
