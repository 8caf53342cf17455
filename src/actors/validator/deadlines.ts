/**
 * The organic job's timing on the validator, as pure arithmetic (upstream `SyncOrganicJobDriver`): a fixed budget for
 * the reservation, one for readiness (class spin-up + startup), then ONE deadline that starts at readiness with the
 * leeway and is only ever extended by each stage's limit, so time a stage does not use carries over to the next.
 */
import { spinUpTimeMs } from '../miner/manifest';
import type { ExecutorClass, ExecutorTimingDetails, V2JobRequest } from '../../protocol';
import {
  ORGANIC_ALLOWED_LEEWAY_MS,
  ORGANIC_CLOSE_TIMEOUT_MS,
  ORGANIC_CONNECT_TIMEOUT_MS,
  ORGANIC_EXECUTOR_STARTUP_TIME_LIMIT_MS,
  ORGANIC_RESERVATION_TIME_LIMIT_MS,
} from './defaults';

/** The validator-side budgets of one organic job (milliseconds). Defaults in `defaults.ts`. */
export interface OrganicJobTimings {
  /** Dial + upgrade. {@link ORGANIC_CONNECT_TIMEOUT_MS} */
  readonly connectTimeoutMs: number;
  /** `V0InitialJobRequest` → accept/decline. {@link ORGANIC_RESERVATION_TIME_LIMIT_MS} */
  readonly reservationTimeLimitMs: number;
  /** Added to the class spin-up for readiness. {@link ORGANIC_EXECUTOR_STARTUP_TIME_LIMIT_MS} */
  readonly executorStartupTimeLimitMs: number;
  /** The deadline's initial slack at readiness. {@link ORGANIC_ALLOWED_LEEWAY_MS} */
  readonly allowedLeewayMs: number;
  /** Wait for the socket to close after the end. {@link ORGANIC_CLOSE_TIMEOUT_MS} */
  readonly closeTimeoutMs: number;
  /** Per-class spin-up overrides (ms); the rest come from `EXECUTOR_CLASS_SPIN_UP_MS`. */
  readonly spinUpOverridesMs: Readonly<Partial<Record<ExecutorClass, number>>>;
}

export const DEFAULT_ORGANIC_JOB_TIMINGS: OrganicJobTimings = Object.freeze({
  connectTimeoutMs: ORGANIC_CONNECT_TIMEOUT_MS,
  reservationTimeLimitMs: ORGANIC_RESERVATION_TIME_LIMIT_MS,
  executorStartupTimeLimitMs: ORGANIC_EXECUTOR_STARTUP_TIME_LIMIT_MS,
  allowedLeewayMs: ORGANIC_ALLOWED_LEEWAY_MS,
  closeTimeoutMs: ORGANIC_CLOSE_TIMEOUT_MS,
  spinUpOverridesMs: Object.freeze({}),
});

/** Defaults overlaid with `overrides` (undefined fields keep their default). */
export function resolveOrganicJobTimings(overrides: Partial<OrganicJobTimings> = {}): OrganicJobTimings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<OrganicJobTimings>;
  return { ...DEFAULT_ORGANIC_JOB_TIMINGS, ...defined };
}

/** The customer's stage limits of one job, in milliseconds (the wire carries whole seconds). */
export interface JobLimitsMs {
  readonly downloadMs: number;
  readonly streamingStartMs: number;
  readonly executionMs: number;
  readonly uploadMs: number;
}

const SECOND_MS = 1_000;

/** The stage limits of a `V2JobRequest`, in ms. */
export function jobLimitsMs(request: Pick<V2JobRequest, 'download_time_limit' | 'streaming_start_time_limit' | 'execution_time_limit' | 'upload_time_limit'>): JobLimitsMs {
  return {
    downloadMs: request.download_time_limit * SECOND_MS,
    streamingStartMs: request.streaming_start_time_limit * SECOND_MS,
    executionMs: request.execution_time_limit * SECOND_MS,
    uploadMs: request.upload_time_limit * SECOND_MS,
  };
}

/**
 * How long to wait for `V0ExecutorReadyRequest` after the accept: the class's spin-up time plus the startup limit.
 *
 * @example
 * ```ts
 * readinessTimeoutMs('always_on.test', DEFAULT_ORGANIC_JOB_TIMINGS); // 3_000 + 5_000
 * ```
 */
export function readinessTimeoutMs(executorClass: ExecutorClass, timings: OrganicJobTimings): number {
  return spinUpTimeMs(executorClass, timings.spinUpOverridesMs) + timings.executorStartupTimeLimitMs;
}

/** The stages the single deadline covers, in order; `streaming` only for a streaming job. */
export type DeadlineStage = 'volumes' | 'streaming' | 'execution' | 'upload';

/**
 * The absolute deadline on entering `stage`. `volumes` starts the ladder at readiness (`nowMs` + leeway + download);
 * every later stage extends the current deadline by its own limit.
 *
 * @example
 * ```ts
 * const volumes = organicDeadlineAfter('volumes', { nowMs: 1_000, currentDeadlineMs: 0, limits, leewayMs: 5_000 });
 * const execution = organicDeadlineAfter('execution', { nowMs: 3_000, currentDeadlineMs: volumes, limits, leewayMs: 5_000 });
 * // execution - volumes === limits.executionMs, whatever nowMs was: unused download time carries over
 * ```
 */
export function organicDeadlineAfter(
  stage: DeadlineStage,
  input: { readonly nowMs: number; readonly currentDeadlineMs: number; readonly limits: JobLimitsMs; readonly leewayMs: number },
): number {
  const { nowMs, currentDeadlineMs, limits, leewayMs } = input;
  switch (stage) {
    case 'volumes':
      return nowMs + leewayMs + limits.downloadMs;
    case 'streaming':
      return currentDeadlineMs + limits.streamingStartMs;
    case 'execution':
      return currentDeadlineMs + limits.executionMs;
    case 'upload':
      return currentDeadlineMs + limits.uploadMs;
  }
}

/** Milliseconds until `deadlineMs` (0 once it passed). */
export function timeLeftMs(deadlineMs: number, nowMs: number): number {
  return Math.max(0, deadlineMs - nowMs);
}

/**
 * The longest an organic job can take on the validator, from the first message to the last timeout (connect not
 * included): reservation + readiness + leeway + every stage limit (streaming start only for a streaming job).
 */
export function organicJobBudgetMs(executorClass: ExecutorClass, limits: JobLimitsMs, timings: OrganicJobTimings, streaming: boolean): number {
  return (
    timings.reservationTimeLimitMs +
    readinessTimeoutMs(executorClass, timings) +
    timings.allowedLeewayMs +
    limits.downloadMs +
    (streaming ? limits.streamingStartMs : 0) +
    limits.executionMs +
    limits.uploadMs
  );
}

/**
 * TTL (whole seconds) of the JobAccepted receipt, as upstream: readiness + leeway + download + execution + upload +
 * streaming start (always counted, streaming job or not).
 */
export function acceptedReceiptTtlS(executorClass: ExecutorClass, request: V2JobRequest, timings: OrganicJobTimings): number {
  const readinessS = Math.ceil(readinessTimeoutMs(executorClass, timings) / SECOND_MS);
  return (
    readinessS +
    Math.ceil(timings.allowedLeewayMs / SECOND_MS) +
    request.download_time_limit +
    request.execution_time_limit +
    request.upload_time_limit +
    request.streaming_start_time_limit
  );
}

/** `executor_timing` of `V0InitialJobRequest` (seconds): the leeway and the customer's limits. */
export function executorTimingOf(request: V2JobRequest, timings: OrganicJobTimings): ExecutorTimingDetails {
  return {
    allowed_leeway: Math.ceil(timings.allowedLeewayMs / SECOND_MS),
    download_time_limit: request.download_time_limit,
    execution_time_limit: request.execution_time_limit,
    upload_time_limit: request.upload_time_limit,
    streaming_start_time_limit: request.streaming_start_time_limit,
  };
}

/**
 * The job's value in executor-seconds (upstream's `allowance_job_value`: download + execution + upload, streaming
 * start not counted); the JobFinished receipt's score on success.
 */
export function jobValueSeconds(request: Pick<V2JobRequest, 'download_time_limit' | 'execution_time_limit' | 'upload_time_limit'>): number {
  return request.download_time_limit + request.execution_time_limit + request.upload_time_limit;
}
