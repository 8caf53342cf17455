import { HordeError } from '../../util/errors';

/** The task group's input is unusable; `problems` lists every fault. Raised when the group starts. */
export class TaskGroupInputError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('taskgroup.invalid_input', `invalid task group input: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A task group invariant broke (a bug in the task group, not in a child). Reported, never swallowed. */
export class TaskGroupInternalError extends HordeError {
  constructor(message: string) {
    super('taskgroup.internal', message);
  }
}

/** A child ran past its own `timeoutMs` and was stopped. Usually a peer that went silent mid-task. */
export class TaskTimeoutError extends HordeError {
  readonly childId: string;
  readonly timeoutMs: number;

  constructor(childId: string, timeoutMs: number) {
    super('taskgroup.child_timeout', `task '${childId}' did not finish within ${timeoutMs} ms`);
    this.childId = childId;
    this.timeoutMs = timeoutMs;
  }
}

/** The group's overall deadline passed while this child was still running; it was stopped. */
export class TaskGroupDeadlineError extends HordeError {
  readonly childId: string;
  readonly deadlineMs: number;

  constructor(childId: string, deadlineMs: number) {
    super('taskgroup.deadline_exceeded', `task '${childId}' was still running at the group deadline (${deadlineMs} ms)`);
    this.childId = childId;
    this.deadlineMs = deadlineMs;
  }
}

/** Why a child was cancelled: a sibling failed under `fail_fast`, the deadline passed before it started, or the
 * group was told `taskGroup.cancel`. */
export type CancelReason = 'fail_fast' | 'deadline' | 'cancelled';

/** A child was stopped (or never started) because the group stopped early; `reason` says why. */
export class TaskCancelledError extends HordeError {
  readonly childId: string;
  readonly reason: CancelReason;

  constructor(childId: string, reason: CancelReason) {
    super('taskgroup.cancelled', `task '${childId}' was cancelled (${reason})`);
    this.childId = childId;
    this.reason = reason;
  }
}
