/**
 * The task group's decisions as pure functions: which children start (concurrency limit), what a settled child
 * changes (results, barrier departures, `fail_fast`), how the group stops early (deadline, cancel), and when it is
 * finished. The machine (taskGroup.machine.ts) keeps a `GroupBook` in its context and carries out the returned
 * commands: spawn, stop, release, announce.
 *
 * The book is indexed by each child's position in the input and copied on write (a typed array and an array of
 * references), so one decision costs a memcpy of the group's size, not a rebuild of maps keyed by caller strings.
 */
import { arriveAtBarrier, departFromBarriers, emptyBarrierBook, type BarrierBook, type BarrierRelease } from './barriers';
import { TaskCancelledError, TaskGroupDeadlineError, type CancelReason } from './errors';
import type { FinishReason, ResolvedTaskGroupInput, TaskGroupOutput, TaskResult, TaskSpec } from './types';

export interface GroupBook {
  /** Index in `children` of the next child to start. */
  readonly nextIndex: number;
  /** Per child, in input order: start time (ms) while it runs, `NaN` otherwise. Never written after creation. */
  readonly startedAtMs: Float64Array;
  readonly runningCount: number;
  /** Per child, in input order: its result once settled. */
  readonly results: readonly (TaskResult | undefined)[];
  readonly settledCount: number;
  readonly barriers: BarrierBook;
  /** Set once the group stops early; no child starts after that. */
  readonly stopReason: CancelReason | undefined;
}

/** A child that settled, with its run time (`undefined` when it never started). */
export interface SettledNote {
  readonly result: TaskResult;
  readonly durationMs: number | undefined;
}

/** What the machine must do after a decision. */
export interface GroupCommands {
  readonly start: readonly TaskSpec[];
  readonly stop: readonly string[];
  readonly settled: readonly SettledNote[];
  readonly releases: readonly BarrierRelease[];
}

export interface Decision {
  readonly book: GroupBook;
  readonly commands: GroupCommands;
}

const noCommands: GroupCommands = Object.freeze({ start: [], stop: [], settled: [], releases: [] });

/** A group with nothing started. */
export function initialGroupBook(config: ResolvedTaskGroupInput): GroupBook {
  return {
    nextIndex: 0,
    startedAtMs: new Float64Array(config.children.length).fill(Number.NaN),
    runningCount: 0,
    results: new Array<TaskResult | undefined>(config.children.length).fill(undefined),
    settledCount: 0,
    barriers: emptyBarrierBook,
    stopReason: undefined,
  };
}

function runningIndex(book: GroupBook, config: ResolvedTaskGroupInput, childId: string): number | undefined {
  const index = config.indexById.get(childId);
  return index !== undefined && !Number.isNaN(book.startedAtMs[index]!) ? index : undefined;
}

/** Whether `childId` is live (started, not settled). */
export function isRunning(book: GroupBook, config: ResolvedTaskGroupInput, childId: string): boolean {
  return runningIndex(book, config, childId) !== undefined;
}

/** The result of `childId`, once it settled. */
export function resultOf(book: GroupBook, config: ResolvedTaskGroupInput, childId: string): TaskResult | undefined {
  const index = config.indexById.get(childId);
  return index === undefined ? undefined : book.results[index];
}

/** Starts children in input order while fewer than `concurrency` run (none once the group stopped early). */
export function startChildren(book: GroupBook, config: ResolvedTaskGroupInput, nowMs: number): Decision {
  if (book.stopReason !== undefined) return { book, commands: noCommands };
  const free = config.concurrency - book.runningCount;
  const count = Math.max(0, Math.min(free, config.children.length - book.nextIndex));
  if (count === 0) return { book, commands: noCommands };
  const startedAtMs = book.startedAtMs.slice();
  startedAtMs.fill(nowMs, book.nextIndex, book.nextIndex + count);
  return {
    book: { ...book, nextIndex: book.nextIndex + count, startedAtMs, runningCount: book.runningCount + count },
    commands: { ...noCommands, start: config.children.slice(book.nextIndex, book.nextIndex + count) },
  };
}

/** A live child arrived at barrier `name`. Arrivals from children that are not live are ignored. */
export function childArrived(book: GroupBook, config: ResolvedTaskGroupInput, childId: string, name: string): Decision {
  if (runningIndex(book, config, childId) === undefined) return { book, commands: noCommands };
  const { book: barriers, release } = arriveAtBarrier(book.barriers, name, childId, book.runningCount);
  return { book: { ...book, barriers }, commands: { ...noCommands, releases: release ? [release] : [] } };
}

/**
 * A live child settled with `result`. Records it, releases barriers it was holding up, and then either stops the
 * rest (`fail_fast` and the child did not finish `done`) or starts the next queued children. Results for children
 * that are not live (already cancelled, unknown) are ignored: the first outcome wins.
 */
export function childSettled(
  book: GroupBook,
  config: ResolvedTaskGroupInput,
  result: TaskResult,
  nowMs: number,
): Decision {
  const index = runningIndex(book, config, result.id);
  if (index === undefined) return { book, commands: noCommands };
  const durationMs = nowMs - book.startedAtMs[index]!;
  const startedAtMs = book.startedAtMs.slice();
  startedAtMs[index] = Number.NaN;
  const results = book.results.slice();
  results[index] = result;
  const runningCount = book.runningCount - 1;
  const { book: barriers, releases } = departFromBarriers(book.barriers, result.id, runningCount);
  const afterSettle: GroupBook = {
    ...book,
    startedAtMs,
    runningCount,
    results,
    settledCount: book.settledCount + 1,
    barriers,
  };
  const settled: SettledNote[] = [{ result, durationMs }];

  if (config.errorPolicy === 'fail_fast' && result.status !== 'done' && book.stopReason === undefined) {
    // The departure may have opened a barrier, but everyone it would release is being stopped: no releases
    // (sending to a child stopped in the same step would fail the group).
    const stopped = stopGroup(afterSettle, config, 'fail_fast', nowMs);
    return {
      book: stopped.book,
      commands: { ...stopped.commands, settled: [...settled, ...stopped.commands.settled] },
    };
  }
  const started = startChildren(afterSettle, config, nowMs);
  return { book: started.book, commands: { ...started.commands, settled, releases } };
}

/**
 * Stops the group early. Live children are stopped: `timed_out` at the deadline, `cancelled` otherwise. Children
 * not yet started are `cancelled`. Does nothing if the group already stopped.
 */
export function stopGroup(
  book: GroupBook,
  config: ResolvedTaskGroupInput,
  reason: CancelReason,
  nowMs: number,
): Decision {
  if (book.stopReason !== undefined) return { book, commands: noCommands };
  const settled: SettledNote[] = [];
  const stop: string[] = [];
  const results = book.results.slice();
  config.children.forEach((spec, index) => {
    const startedAtMs = book.startedAtMs[index]!;
    if (!Number.isNaN(startedAtMs)) {
      stop.push(spec.id);
      const result: TaskResult =
        reason === 'deadline'
          ? { id: spec.id, status: 'timed_out', error: new TaskGroupDeadlineError(spec.id, config.deadlineMs ?? 0) }
          : { id: spec.id, status: 'cancelled', error: new TaskCancelledError(spec.id, reason) };
      results[index] = result;
      settled.push({ result, durationMs: nowMs - startedAtMs });
    } else if (index >= book.nextIndex) {
      const result: TaskResult = { id: spec.id, status: 'cancelled', error: new TaskCancelledError(spec.id, reason) };
      results[index] = result;
      settled.push({ result, durationMs: undefined });
    }
  });
  return {
    book: {
      nextIndex: config.children.length,
      startedAtMs: new Float64Array(config.children.length).fill(Number.NaN),
      runningCount: 0,
      results,
      settledCount: book.settledCount + settled.length,
      barriers: emptyBarrierBook,
      stopReason: reason,
    },
    commands: { ...noCommands, stop, settled },
  };
}

/** Every child has a result. */
export function isFinished(book: GroupBook, config: ResolvedTaskGroupInput): boolean {
  return book.settledCount >= config.children.length;
}

/** The group's output: results in input order and why it finished. */
export function groupOutput(book: GroupBook, config: ResolvedTaskGroupInput): TaskGroupOutput {
  const reason: FinishReason = book.stopReason ?? 'completed';
  return {
    results: config.children.map(
      (spec, index) =>
        book.results[index] ?? { id: spec.id, status: 'cancelled', error: new TaskCancelledError(spec.id, 'cancelled') },
    ),
    reason,
  };
}
