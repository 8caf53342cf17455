/**
 * The task group's data: what goes in, what comes out, the events a child exchanges with it, and input validation.
 */
import type { AnyActorLogic } from 'xstate';
import { DEFAULT_TASKGROUP_CONCURRENCY, DEFAULT_TASKGROUP_ERROR_POLICY, TASKGROUP_MAX_CHILDREN } from '../../resilience/defaults';
import type { TaskOutcome } from '../../resilience/metrics';
import type { Clock } from '../../util/clock';
import type { CancelReason } from './errors';
import { TaskGroupInputError } from './errors';

export type { TaskOutcome };

/** `isolate`: a failed child does not affect its siblings. `fail_fast`: the first failure (or timeout) cancels the
 * rest and the group finishes. */
export type ErrorPolicy = 'isolate' | 'fail_fast';

/** One child: any XState logic (promise, callback, machine, or `fromTask`). */
export interface TaskSpec<L extends AnyActorLogic = AnyActorLogic> {
  /** Unique within the group; the child's actor id and its key in the results. */
  readonly id: string;
  readonly logic: L;
  readonly input?: unknown;
  /** Per-child timeout; overrides the group's `childTimeoutMs`. */
  readonly timeoutMs?: number;
}

/** How one child ended. `output` only for `done`; `error` for the other three. */
export interface TaskResult {
  readonly id: string;
  readonly status: TaskOutcome;
  readonly output?: unknown;
  readonly error?: unknown;
}

export interface TaskGroupInput {
  /** Started in this order (the first `concurrency` at once, the rest as slots free up). */
  readonly children: readonly TaskSpec[];
  /** @default 'isolate' (`DEFAULT_TASKGROUP_ERROR_POLICY`) */
  readonly errorPolicy?: ErrorPolicy;
  /** Timeout for every child without its own `timeoutMs`. Unset: children are bounded only by the deadline. */
  readonly childTimeoutMs?: number;
  /** The whole group's time budget from its start. Running children are then stopped (`timed_out`), children not
   * yet started are `cancelled`. Unset: no deadline. */
  readonly deadlineMs?: number;
  /** At most this many children run at once. @default Infinity (`DEFAULT_TASKGROUP_CONCURRENCY`) */
  readonly concurrency?: number;
  /** Wall clock for durations. Timers run on XState's clock; keep the two in step in tests. */
  readonly clock?: Clock;
}

/** Why the group finished. */
export type FinishReason = 'completed' | CancelReason;

export interface TaskGroupOutput {
  /** One per child, in input order. */
  readonly results: readonly TaskResult[];
  /** `completed` when every child settled on its own. */
  readonly reason: FinishReason;
}

/** A child's request to wait at barrier `name` (machine children: `sendParent`; callback children: `sendBack`). */
export interface BarrierArriveEvent {
  readonly type: 'taskGroup.barrier.arrive';
  readonly name: string;
}

/** Sent to every child waiting at barrier `name` when it opens. */
export interface BarrierReleaseEvent {
  readonly type: 'taskGroup.barrier.release';
  readonly name: string;
}

/** How a callback child (which cannot finish on its own in XState v5) reports its result. */
export interface TaskDoneEvent {
  readonly type: 'taskGroup.task.done';
  readonly output?: unknown;
}

/** How a callback child reports an asynchronous failure (never `throw` from a timer or socket handler). */
export interface TaskFailedEvent {
  readonly type: 'taskGroup.task.failed';
  readonly error: unknown;
}

/** Everything a child may send to the group. */
export type TaskToGroupEvent = BarrierArriveEvent | TaskDoneEvent | TaskFailedEvent;

/** Input with every default applied, as the group keeps it. */
export interface ResolvedTaskGroupInput {
  readonly children: readonly TaskSpec[];
  readonly errorPolicy: ErrorPolicy;
  readonly childTimeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
  readonly concurrency: number;
  /** Position of each child in `children`, by id. */
  readonly indexById: ReadonlyMap<string, number>;
}

const positiveFinite = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value > 0;

/** Every problem with a would-be input (empty when valid). */
export function taskGroupInputProblems(input: TaskGroupInput): string[] {
  const problems: string[] = [];
  if (!Array.isArray(input.children)) return ['children must be an array of { id, logic }'];
  // Array.isArray narrows a readonly array to any[]; restore the element type.
  const children: readonly TaskSpec[] = input.children as readonly TaskSpec[];
  if (children.length > TASKGROUP_MAX_CHILDREN)
    problems.push(`children has ${children.length} entries; at most ${TASKGROUP_MAX_CHILDREN} (TASKGROUP_MAX_CHILDREN)`);
  const seen = new Set<string>();
  children.forEach((child, i) => {
    if (typeof child.id !== 'string' || child.id.length === 0) problems.push(`children[${i}].id must be a non-empty string`);
    else if (seen.has(child.id)) problems.push(`children[${i}].id '${child.id}' is not unique`);
    else seen.add(child.id);
    const logic = child.logic as { transition?: unknown } | undefined;
    if (typeof logic !== 'object' || logic === null || typeof logic.transition !== 'function')
      problems.push(`children[${i}].logic must be XState actor logic (fromPromise, fromCallback, a machine…)`);
    if (child.timeoutMs !== undefined && !positiveFinite(child.timeoutMs))
      problems.push(`children[${i}].timeoutMs must be a finite number > 0`);
  });
  if (input.errorPolicy !== undefined && input.errorPolicy !== 'isolate' && input.errorPolicy !== 'fail_fast')
    problems.push(`errorPolicy must be 'isolate' or 'fail_fast'`);
  if (input.childTimeoutMs !== undefined && !positiveFinite(input.childTimeoutMs))
    problems.push('childTimeoutMs must be a finite number > 0');
  if (input.deadlineMs !== undefined && !positiveFinite(input.deadlineMs))
    problems.push('deadlineMs must be a finite number > 0');
  const concurrency = input.concurrency;
  if (
    concurrency !== undefined &&
    !(concurrency === Number.POSITIVE_INFINITY || (Number.isInteger(concurrency) && concurrency >= 1))
  )
    problems.push('concurrency must be an integer >= 1 or Infinity');
  return problems;
}

/** Applies the defaults, or throws `TaskGroupInputError` listing every problem. */
export function resolveTaskGroupInput(input: TaskGroupInput): ResolvedTaskGroupInput {
  const problems = taskGroupInputProblems(input);
  if (problems.length > 0) throw new TaskGroupInputError(problems);
  return {
    children: input.children,
    errorPolicy: input.errorPolicy ?? DEFAULT_TASKGROUP_ERROR_POLICY,
    childTimeoutMs: input.childTimeoutMs,
    deadlineMs: input.deadlineMs,
    concurrency: input.concurrency ?? DEFAULT_TASKGROUP_CONCURRENCY,
    indexById: new Map(input.children.map((child, index) => [child.id, index])),
  };
}
