import { HordeError } from '../util/errors';

/**
 * A supervisor policy or child spec that cannot work (unknown strategy, negative intensity, duplicate child ids …).
 * Lists every problem at once, each naming the offending field, as OTP's `check_childspec` does.
 */
export class SupervisorPolicyError extends HordeError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('supervisor.invalid_policy', `invalid supervisor policy: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** Why a supervisor gave up. */
export type EscalationReason = 'intensity' | 'decider';

/**
 * The error a supervisor fails with after stopping its children, so that its own parent receives
 * `xstate.error.actor.<id>`. `cause` is the error of the child whose failure tipped it over.
 *
 * - `intensity`: more than `intensity` restarts happened within `periodMs` (a restart storm);
 * - `decider`: the policy's decider answered `escalate` for the child's error.
 */
export class SupervisorEscalationError extends HordeError {
  readonly supervisor: string;
  readonly childId: string;
  readonly reason: EscalationReason;
  constructor(supervisor: string, childId: string, reason: EscalationReason, options?: { cause?: unknown }) {
    const why = reason === 'intensity' ? 'restart intensity exceeded' : 'the decider escalated the failure';
    super('supervisor.escalated', `supervisor ${supervisor} gave up: ${why} (child ${childId})`, options);
    this.supervisor = supervisor;
    this.childId = childId;
    this.reason = reason;
  }
}

/**
 * A child could not be started again because another actor took its `systemId` while it was down. Handled like a
 * failure of that child (it counts against the restart intensity), so a persistent clash ends in escalation.
 */
export class ChildStartError extends HordeError {
  constructor(childId: string, systemId: string) {
    super('supervisor.child_start_failed', `child ${childId} cannot start: systemId "${systemId}" is taken`);
  }
}
