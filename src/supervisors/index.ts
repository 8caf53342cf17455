/**
 * OTP-style supervision for XState v5 actors: policy as data, a pure decider and restart window, and the
 * supervisor machine. See `supervisorMachine` for the semantics.
 *
 * @example
 * ```ts
 * import { createActor } from 'xstate';
 * import { supervisorMachine, leafSupervisorPolicy, DEFAULT_CHILD_SHUTDOWN_MS } from './supervisors';
 *
 * const pool = createActor(supervisorMachine, {
 *   input: {
 *     policy: leafSupervisorPolicy('one_for_one'),
 *     children: [
 *       { id: 'executor-1', logic: executorMachine, restart: 'permanent', shutdownMs: DEFAULT_CHILD_SHUTDOWN_MS },
 *     ],
 *   },
 * }).start();
 * ```
 */
export {
  supervisorMachine,
  type SupervisorActorRef,
  type SupervisorDecisionEvent,
  type SupervisorEmitted,
  type SupervisorEvent,
  type SupervisorInput,
  type SupervisorRejectedEvent,
} from './supervisor.machine';
export {
  childSpecProblems,
  policyProblems,
  restartBackoffProblems,
  validatePolicy,
  type ChildSpec,
  type Decider,
  type Directive,
  type RestartBackoff,
  type RestartType,
  type Strategy,
  type SupervisorLimits,
  type SupervisorPolicy,
} from './policy';
export {
  composeDeciders,
  decide,
  deciderFromCodes,
  defaultDirective,
  exitCode,
  NORMAL_EXIT_CODE,
  type ChildExit,
} from './decider';
export { recordRestart, restartsInWindow, type RestartLimit, type RestartRecord } from './restartWindow';
export { nextRestartAttempt, restartCeilingMs, restartDelayMs } from './restartBackoff';
export { ChildStartError, SupervisorEscalationError, SupervisorPolicyError, type EscalationReason } from './errors';
export { defaultSupervisorMetrics, SupervisorMetrics } from './metrics';
export * from './defaults';
export { watchRootFailure } from './rootFailure';
