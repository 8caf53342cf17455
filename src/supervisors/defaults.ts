/**
 * Supervisor defaults (anchors.md B.2, from OTP's `sup_princ.md` tuning advice and Akka's backoff). Each constant
 * says what changing it does. Restart budgets multiply across levels (a leaf's 5 × the root's 3), which is why the
 * root is the strictest.
 */
import type { RestartBackoff, Strategy, SupervisorPolicy } from './policy';

/**
 * Restarts a leaf supervisor (executor pool, per-link supervisor) tolerates within its period. A burst of 5 is
 * absorbed; the 6th within {@link LEAF_SUPERVISOR_PERIOD_MS} escalates. Higher: a flapping child is retried longer
 * before its parent hears of it. @default 5
 */
export const LEAF_SUPERVISOR_INTENSITY = 5;

/**
 * Window of {@link LEAF_SUPERVISOR_INTENSITY}: 5 in 30 s sustains at most one restart per 6 s. Longer: unrelated
 * incidents add up to a give-up. @default 30000
 */
export const LEAF_SUPERVISOR_PERIOD_MS = 30_000;

/**
 * Restarts the root supervisor of a role tolerates within its period; exceeding it fails the process (better a
 * clean exit and a restart by systemd/Docker than a node limping on). @default 3
 */
export const ROOT_SUPERVISOR_INTENSITY = 3;

/** Window of {@link ROOT_SUPERVISOR_INTENSITY}: at most one subtree restart per 20 s sustained. @default 60000 */
export const ROOT_SUPERVISOR_PERIOD_MS = 60_000;

/**
 * Shortest delay before a restart (and the base of the exponential ceiling). Lower: faster recovery from a blip,
 * more load on whatever the child talks to while it keeps failing. @default 1000
 */
export const DEFAULT_RESTART_BACKOFF_MIN_MS = 1_000;

/** Longest delay before a restart. Higher: gentler on a dead dependency, slower to notice it is back. @default 30000 */
export const DEFAULT_RESTART_BACKOFF_MAX_MS = 30_000;

/**
 * A child that runs this long without failing starts its backoff over at the first attempt (about halfway between
 * min and max, as Akka does). Shorter: a child that fails every 20 s never backs off far. @default 15000
 */
export const DEFAULT_RESTART_BACKOFF_RESET_AFTER_MS = 15_000;

/** {@link DEFAULT_RESTART_BACKOFF_MIN_MS} … {@link DEFAULT_RESTART_BACKOFF_RESET_AFTER_MS} together. */
export const DEFAULT_RESTART_BACKOFF: Readonly<RestartBackoff> = Object.freeze({
  minMs: DEFAULT_RESTART_BACKOFF_MIN_MS,
  maxMs: DEFAULT_RESTART_BACKOFF_MAX_MS,
  resetAfterMs: DEFAULT_RESTART_BACKOFF_RESET_AFTER_MS,
});

/**
 * How long a child may take to finish after `supervisor.shutdown` before it is stopped by force (OTP's worker
 * default). Longer: slower shutdowns; shorter: children lose work they were about to save. A child that is itself
 * a supervisor needs at least the sum of its own children's shutdownMs. @default 5000
 */
export const DEFAULT_CHILD_SHUTDOWN_MS = 5_000;

/**
 * Children one supervisor holds at most, static and dynamic together; `supervisor.start_child` beyond it is
 * rejected (`supervisor.rejected`, counted in `horde_supervisor_rejections_total`). XState copies a parent's
 * children map on every spawn and stop, so each event costs O(children): about 1.5 ms per spawn at 1 000 children
 * and 9 ms at 5 000 on the 2-vCPU VM, plain XState and this supervisor alike. Shard larger populations over
 * several supervisors rather than raising this. @default 1000
 */
export const DEFAULT_MAX_CHILDREN = 1_000;

/** A leaf supervisor's policy with the defaults above (one_for_one unless told otherwise). */
export function leafSupervisorPolicy(strategy: Strategy = 'one_for_one'): SupervisorPolicy {
  return {
    strategy,
    intensity: LEAF_SUPERVISOR_INTENSITY,
    periodMs: LEAF_SUPERVISOR_PERIOD_MS,
    backoff: { ...DEFAULT_RESTART_BACKOFF },
  };
}

/** A root supervisor's policy with the defaults above (one_for_one unless told otherwise). */
export function rootSupervisorPolicy(strategy: Strategy = 'one_for_one'): SupervisorPolicy {
  return {
    strategy,
    intensity: ROOT_SUPERVISOR_INTENSITY,
    periodMs: ROOT_SUPERVISOR_PERIOD_MS,
    backoff: { ...DEFAULT_RESTART_BACKOFF },
  };
}
