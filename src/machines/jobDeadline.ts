/**
 * The job driver's single deadline, as pure arithmetic. Upstream's executor (`JobDriver.execute`) keeps ONE timer:
 * it is set for the startup stage, re-set to the leeway when the executor is ready, and then only ever extended by
 * each stage's limit (download, streaming start, execution, upload). Time a stage does not use carries over to the
 * next one. The validator runs the same ladder from the moment it receives `V0ExecutorReadyRequest`; the executor
 * arms its own ladder just before it sends that message, so it always times out first and can report a
 * `V0JobFailedRequest(timeout)` before the validator declares `*_timed_out` (computehorde-upstream.md 3.5 item 7).
 */

/** The time limits of one job, in milliseconds (the wire carries whole seconds). */
export type JobTiming =
  /** `executor_timing`: leeway, then one limit per stage. */
  | {
      readonly mode: 'staged';
      readonly leewayMs: number;
      readonly downloadMs: number;
      readonly streamingStartMs: number;
      readonly executionMs: number;
      readonly uploadMs: number;
    }
  /** Legacy `timeout_seconds`: one budget for everything after ready; stages do not extend it. */
  | { readonly mode: 'single'; readonly totalMs: number };

/** The parts of `V0InitialJobRequest` that carry timing (seconds, as on the wire). */
export interface InitialTimingFields {
  readonly timeout_seconds?: number | null;
  readonly executor_timing?: {
    readonly allowed_leeway: number;
    readonly download_time_limit: number;
    readonly execution_time_limit: number;
    readonly upload_time_limit: number;
    readonly streaming_start_time_limit: number;
  } | null;
}

const SECOND_MS = 1_000;

/**
 * The job's timing from its initial request: `executor_timing` wins over the legacy `timeout_seconds`; with neither
 * (or a negative limit) there is none, which upstream treats as a horde failure ("No timing received").
 *
 * @example
 * ```ts
 * jobTimingFrom({ executor_timing: { allowed_leeway: 5, download_time_limit: 30, execution_time_limit: 120,
 *   upload_time_limit: 30, streaming_start_time_limit: 5 } }); // { mode: 'staged', leewayMs: 5000, ... }
 * jobTimingFrom({ timeout_seconds: 300 });                      // { mode: 'single', totalMs: 300000 }
 * ```
 */
export function jobTimingFrom(initial: InitialTimingFields): JobTiming | undefined {
  const timing = initial.executor_timing;
  if (timing !== null && timing !== undefined) {
    const limits = [
      timing.allowed_leeway,
      timing.download_time_limit,
      timing.streaming_start_time_limit,
      timing.execution_time_limit,
      timing.upload_time_limit,
    ];
    if (limits.some((limit) => !Number.isFinite(limit) || limit < 0)) return undefined;
    return {
      mode: 'staged',
      leewayMs: timing.allowed_leeway * SECOND_MS,
      downloadMs: timing.download_time_limit * SECOND_MS,
      streamingStartMs: timing.streaming_start_time_limit * SECOND_MS,
      executionMs: timing.execution_time_limit * SECOND_MS,
      uploadMs: timing.upload_time_limit * SECOND_MS,
    };
  }
  const total = initial.timeout_seconds;
  if (total === null || total === undefined || !Number.isFinite(total) || total < 0) return undefined;
  return { mode: 'single', totalMs: total * SECOND_MS };
}

/**
 * Where the deadline moves. `executor_startup`: set for the startup budget. `volume_download`: re-set when the
 * executor is ready (leeway + download). `execution` and `result_upload`: extended by that stage's limit.
 */
export type DeadlineStage = 'executor_startup' | 'volume_download' | 'execution' | 'result_upload';

export interface DeadlineInput {
  /** The clock's current reading (the same clock the machine's timers run on). */
  readonly nowMs: number;
  /** The deadline before this stage (ignored when the stage re-sets it). */
  readonly currentDeadlineMs: number;
  /** The job's timing; absent only for `executor_startup`, which happens before it is known. */
  readonly timing?: JobTiming;
  /** The startup budget (upstream `--startup-time-limit`). */
  readonly startupTimeLimitMs: number;
  /** A streaming job also gets `streaming_start_time_limit` added when execution starts. */
  readonly streaming?: boolean;
}

/**
 * The absolute deadline on entering `stage`, on the clock of `input.nowMs`. Pure; table-tested.
 *
 * @example
 * ```ts
 * const ready = deadlineAfterStage('volume_download', { nowMs: 1_000, currentDeadlineMs: 0, timing, startupTimeLimitMs: 5_000 });
 * const exec = deadlineAfterStage('execution', { nowMs: 4_000, currentDeadlineMs: ready, timing, startupTimeLimitMs: 5_000 });
 * // exec - ready === timing.executionMs: unused download time carries over
 * ```
 */
export function deadlineAfterStage(stage: DeadlineStage, input: DeadlineInput): number {
  const { nowMs, currentDeadlineMs, timing } = input;
  if (stage === 'executor_startup') return nowMs + input.startupTimeLimitMs;
  if (timing === undefined) throw new RangeError(`the ${stage} deadline needs the job's timing`);
  if (timing.mode === 'single') return stage === 'volume_download' ? nowMs + timing.totalMs : currentDeadlineMs;
  switch (stage) {
    case 'volume_download':
      return nowMs + timing.leewayMs + timing.downloadMs;
    case 'execution':
      return currentDeadlineMs + timing.executionMs + (input.streaming === true ? timing.streamingStartMs : 0);
    case 'result_upload':
      return currentDeadlineMs + timing.uploadMs;
  }
}

/** Milliseconds until `deadlineMs` (0 once it passed): what an `after` delay and an effect's own timeout get. */
export function timeLeftMs(deadlineMs: number, nowMs: number): number {
  return Math.max(0, deadlineMs - nowMs);
}

/**
 * How long the job container may run, on entering execution with `timeLeftMs` on the deadline. As upstream's
 * `job_cleanup`, at most the execution limit (in staged mode; the legacy single timeout gives the whole budget), so
 * that leeway and unused download time stay as slack; and never closer to the deadline than `reserveMs`, the time the
 * kill and the report take, so that the executor's own `V0JobFailedRequest(timeout)` reaches the miner before the
 * validator's identical ladder runs out. At least 1 ms.
 *
 * @example
 * ```ts
 * containerDeadlineMs({ timing: staged, timeLeftMs: 36_000, reserveMs: 1_000 }); // min(120_000, 35_000) = 35_000
 * ```
 */
export function containerDeadlineMs(input: { readonly timing: JobTiming | undefined; readonly timeLeftMs: number; readonly reserveMs: number }): number {
  const limit = input.timing?.mode === 'staged' ? input.timing.executionMs : Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(limit, input.timeLeftMs - input.reserveMs));
}
