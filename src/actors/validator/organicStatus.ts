/**
 * How an organic job ends, and what that means for the facilitator (the terminal `V0JobStatusUpdate`) and for the
 * miner's record (`OrganicJobOutcome.incident`). Pure; table-tested.
 *
 * Deviation from upstream, on purpose: a miner timeout or connection failure is reported as `horde_failed` (upstream's
 * `status_update_from_horde_error` says `failed` while carrying `horde_failure_details`).
 */
import type {
  HordeFailureDetails,
  HordeFailureReason,
  JobParticipantType,
  JobStatus,
  JobStatusMetadata,
  StreamingServerDetails,
  V0DeclineJobRequest,
  V0HordeFailedRequest,
  V0JobFailedRequest,
  V0JobFinishedRequest,
  V0JobStatusUpdate,
  FailureContext,
} from '../../protocol';
import type { IncidentKind, OrganicJobOutcome } from './types';

/** The one way a job ended (decided once, in the machine's `finishing` state). */
export type JobEnding =
  /** `V0JobFinishedRequest` arrived in the upload stage. */
  | { readonly kind: 'completed'; readonly result: V0JobFinishedRequest }
  /** `V0DeclineJobRequest`; `excused` only for a busy decline with enough valid excuses. */
  | {
      readonly kind: 'rejected';
      readonly decline: V0DeclineJobRequest;
      readonly excused: boolean;
      readonly validExcuses: number;
      readonly requiredExcuses: number;
    }
  /** `V0JobFailedRequest`: the job's own failure. */
  | { readonly kind: 'failed'; readonly failure: V0JobFailedRequest }
  /** A horde failure reported by the miner (or its executor), or declared by us (timeout, connection, shutdown). */
  | { readonly kind: 'horde_failed'; readonly details: HordeFailureDetails; readonly incident: IncidentKind | undefined };

const EMPTY_METADATA: JobStatusMetadata = {
  miner_response: null,
  job_rejection_details: null,
  job_failure_details: null,
  horde_failure_details: null,
  streaming_details: null,
};

/** A full `JobStatusMetadata` from the one kind that is set. */
export function statusMetadata(part: Partial<JobStatusMetadata>): JobStatusMetadata {
  return { ...EMPTY_METADATA, ...part };
}

/** An intermediate status (`accepted`, `executor_ready`, `volumes_ready`, `execution_done`): no metadata, as upstream. */
export function progressUpdate(uuid: string, status: JobStatus, streaming?: StreamingServerDetails): V0JobStatusUpdate {
  return {
    message_type: 'V0JobStatusUpdate',
    uuid,
    status,
    metadata: streaming === undefined ? null : statusMetadata({ streaming_details: streaming }),
  };
}

/** Our own horde failure (timeouts, connection, shutdown): `reported_by` validator unless said otherwise. */
export function hordeFailure(
  reason: HordeFailureReason,
  message: string,
  options: { incident: IncidentKind | undefined; reportedBy?: JobParticipantType; context?: FailureContext | null },
): JobEnding {
  return {
    kind: 'horde_failed',
    details: { reported_by: options.reportedBy ?? 'validator', reason, message, context: options.context ?? null },
    incident: options.incident,
  };
}

/** The miner's `V0HordeFailedRequest`, relayed as it came. */
export function minerHordeFailure(message: V0HordeFailedRequest): JobEnding {
  return {
    kind: 'horde_failed',
    details: { reported_by: message.reported_by, reason: message.reason, message: message.message, context: message.context },
    incident: 'horde_failed',
  };
}

/** The rejection text upstream reports (`Miner properly excused job` …). */
export function rejectionMessage(ending: Extract<JobEnding, { kind: 'rejected' }>): string {
  if (ending.decline.reason !== 'busy') return `Miner rejected job: ${ending.decline.message}`;
  return ending.excused ? 'Miner properly excused job' : 'Miner failed to excuse job';
}

/**
 * The terminal status update of a job.
 *
 * @example
 * ```ts
 * terminalUpdate(uuid, { kind: 'failed', failure }); // { status: 'failed', metadata: { job_failure_details: {...} } }
 * ```
 */
export function terminalUpdate(uuid: string, ending: JobEnding): V0JobStatusUpdate {
  const update = (status: JobStatus, part: Partial<JobStatusMetadata>): V0JobStatusUpdate => ({
    message_type: 'V0JobStatusUpdate',
    uuid,
    status,
    metadata: statusMetadata(part),
  });
  switch (ending.kind) {
    case 'completed':
      return update('completed', {
        miner_response: {
          docker_process_stderr: ending.result.docker_process_stderr,
          docker_process_stdout: ending.result.docker_process_stdout,
          artifacts: ending.result.artifacts ?? {},
          upload_results: ending.result.upload_results ?? {},
        },
      });
    case 'rejected':
      return update('rejected', {
        job_rejection_details: {
          rejected_by: 'miner',
          reason: ending.decline.reason,
          message: rejectionMessage(ending),
          context: ending.decline.context,
        },
      });
    case 'failed': {
      const f = ending.failure;
      return update('failed', {
        job_failure_details: {
          reason: f.reason,
          stage: f.stage,
          message: f.message,
          context: f.context,
          docker_process_exit_status: f.docker_process_exit_status,
          docker_process_stdout: f.docker_process_stdout,
          docker_process_stderr: f.docker_process_stderr,
        },
      });
    }
    case 'horde_failed':
      return update('horde_failed', { horde_failure_details: ending.details });
  }
}

/**
 * The actor's output: the status, whether a busy decline was excused, and what to hold against the miner
 * (`job_rejected` for an unexcused decline, `job_failed`, `horde_failed` for the miner's own horde failure,
 * `timed_out`, `connection_failed`; nothing for success, an excused decline or our own shutdown).
 */
export function outcomeOf(jobUuid: string, minerHotkey: string, ending: JobEnding): OrganicJobOutcome {
  switch (ending.kind) {
    case 'completed':
      return { jobUuid, minerHotkey, status: 'completed', excused: false, incident: undefined };
    case 'rejected':
      return { jobUuid, minerHotkey, status: 'rejected', excused: ending.excused, incident: ending.excused ? undefined : 'job_rejected' };
    case 'failed':
      return { jobUuid, minerHotkey, status: 'failed', excused: false, incident: 'job_failed' };
    case 'horde_failed':
      return { jobUuid, minerHotkey, status: 'horde_failed', excused: false, incident: ending.incident };
  }
}
