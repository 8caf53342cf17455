/**
 * Pure decisions of the job driver about how a job ended: which upstream failure an error is, and the exact final
 * message that reports it. Upstream splits failures three ways (computehorde-upstream.md 2.1, 3.5 item 6): what the
 * job's owner caused is a `V0JobFailedRequest` (reason + stage), what the network caused is a
 * `V0HordeFailedRequest` (`reported_by: executor`); rejections never come from an executor.
 */
import { executorFailureFor } from '../actors/executor/errors';
import type { ExecutorToMinerMessageInput, FailureContext, HordeFailureReason, JobFailureReason, JobStage } from '../protocol';
import { errorCode, toError } from '../util/errors';

/** A failure the driver reports, with the stage it happened in. */
export type JobFailure =
  | {
      readonly kind: 'job_failed';
      readonly stage: JobStage;
      readonly reason: JobFailureReason;
      readonly message: string;
      readonly context?: FailureContext;
    }
  | {
      readonly kind: 'horde_failed';
      readonly stage: JobStage;
      readonly reason: HordeFailureReason;
      readonly message: string;
      readonly context?: FailureContext;
    };

/** What the job container did, as far as it is known (upstream's `ExecutionResult`). */
export interface ExecutionRecord {
  /** `null` when the container was killed (timeout). */
  readonly exitCode: number | null;
  /** Already truncated for the wire (head and tail, as upstream). */
  readonly stdout: string;
  readonly stderr: string;
}

/** How a job ended, from the driver's point of view. */
export type JobOutcome = 'completed' | 'job_failed' | 'horde_failed';

const TIMEOUT_MESSAGES: Readonly<Partial<Record<JobStage, string>>> = {
  volume_download: 'Download time exceeded',
  execution: 'Execution time exceeded',
  result_upload: 'Upload time exceeded',
};

/**
 * The stage deadline passed. Startup is the network's fault (the miner did not deliver the job in time, or the image
 * pull was too slow); every later stage is the job's (its limits were too tight for what it asked).
 *
 * @example
 * ```ts
 * stageTimeoutFailure('execution'); // { kind: 'job_failed', reason: 'timeout', message: 'Execution time exceeded', ... }
 * ```
 */
export function stageTimeoutFailure(stage: JobStage): JobFailure {
  if (stage === 'executor_startup' || stage === 'unknown') {
    return {
      kind: 'horde_failed',
      stage,
      reason: 'generic_error',
      message: 'Timed out waiting for initial job details from miner',
      context: { stage },
    };
  }
  return { kind: 'job_failed', stage, reason: 'timeout', message: TIMEOUT_MESSAGES[stage] ?? 'Stage time exceeded' };
}

/**
 * The failure for an error an effect threw in `stage`, by its stable code (`executorFailureFor`): volume problems
 * are `download_failed`, upload problems `upload_failed`, a killed container `timeout`, engine and image problems
 * horde failures; anything unknown is `unhandled_exception` with the exception's type in the context, as upstream's
 * `HordeError.wrap_unhandled`.
 *
 * @example
 * ```ts
 * failureFromError(new VolumeBadZipError('bad header'), 'volume_download').reason; // 'download_failed'
 * ```
 */
export function failureFromError(error: unknown, stage: JobStage): JobFailure {
  const failure = toError(error);
  const code = errorCode(error);
  const mapped = executorFailureFor(code);
  if (mapped.kind === 'job_failed') {
    const message =
      mapped.reason === 'download_failed'
        ? `Download failed: ${failure.message}`
        : mapped.reason === 'upload_failed'
          ? `Upload failed: ${failure.message}`
          : mapped.reason === 'timeout'
            ? 'Job container timed out during execution'
            : failure.message;
    return { kind: 'job_failed', stage, reason: mapped.reason, message, context: { error_code: code } };
  }
  if (mapped.kind === 'horde_failed' && mapped.reason === 'generic_error') {
    return { kind: 'horde_failed', stage, reason: 'generic_error', message: failure.message, context: { stage, error_code: code } };
  }
  return {
    kind: 'horde_failed',
    stage,
    reason: 'unhandled_exception',
    message: 'Unhandled exception',
    context: { stage, exception_type: failure.name, error_code: code, detail: failure.message },
  };
}

/** What a killed container printed until the kill, when the error carries it (`ExecutionTimeoutError.output`). */
export function executionFromError(error: unknown): ExecutionRecord | undefined {
  const output = (error as { output?: { stdout?: unknown; stderr?: unknown } } | null)?.output;
  if (output === undefined || typeof output.stdout !== 'string' || typeof output.stderr !== 'string') return undefined;
  return { exitCode: null, stdout: output.stdout, stderr: output.stderr };
}

/**
 * The final message for a failure: `V0JobFailedRequest` carries the container's exit status and (truncated) output
 * when the job got as far as running it, as upstream's `send_job_failed` does.
 *
 * @example
 * ```ts
 * failureMessage(jobUuid, stageTimeoutFailure('volume_download')).message_type; // 'V0JobFailedRequest'
 * ```
 */
export function failureMessage(jobUuid: string, failure: JobFailure, execution?: ExecutionRecord): ExecutorToMinerMessageInput {
  if (failure.kind === 'job_failed') {
    return {
      message_type: 'V0JobFailedRequest',
      job_uuid: jobUuid,
      message: failure.message,
      reason: failure.reason,
      stage: failure.stage,
      docker_process_exit_status: execution?.exitCode ?? null,
      docker_process_stdout: execution?.stdout ?? null,
      docker_process_stderr: execution?.stderr ?? null,
      context: failure.context ?? null,
    };
  }
  return {
    message_type: 'V0HordeFailedRequest',
    job_uuid: jobUuid,
    reported_by: 'executor',
    message: failure.message,
    reason: failure.reason,
    context: failure.context ?? null,
  };
}

/** `message_type`s that end a job on the miner's side: the driver sends exactly one of them. */
export const FINAL_MESSAGE_TYPES: ReadonlySet<string> = new Set(['V0JobFinishedRequest', 'V0JobFailedRequest', 'V0HordeFailedRequest']);

/** Process exit code per outcome (documented in docs/executor.md). */
export const EXIT_CODES = {
  completed: 0,
  job_failed: 1,
  horde_failed: 2,
  usage: 3,
} as const;

/**
 * The exit code of `horde executor` for how the job ended.
 *
 * @example
 * ```ts
 * exitCodeFor('job_failed'); // 1
 * ```
 */
export function exitCodeFor(outcome: JobOutcome): number {
  return EXIT_CODES[outcome];
}

/**
 * Upstream tokens are `"{job_uuid}-{uuid4}"` (the miner issues them): the job uuid is known before the initial
 * request arrives, so even a startup failure can be reported for the right job. Anything else yields `undefined`.
 *
 * @example
 * ```ts
 * jobUuidFromToken('7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f-0b6c…'); // '7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f'
 * ```
 */
export function jobUuidFromToken(token: string): string | undefined {
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-/i.exec(token);
  return match?.[1];
}
