/**
 * Pure decisions of the miner's job actor about executor messages: what the validator gets for each (upstream's
 * `MinerExecutorConsumer.handle` and the `_executor_*` relays of `MinerValidatorConsumer`), and what the executor's
 * initial request looks like.
 */
import type {
  ExecutorToMinerMessage,
  MinerToValidatorMessageInput,
  V0HordeFailedRequest,
  V0InitialJobRequest,
  V0JobFailedRequest,
} from '../protocol';

/** The outcome a final message gives a job (the `outcome` label of `horde_miner_jobs_total`). */
export type JobOutcome = 'finished' | 'failed' | 'horde_failed' | 'rejected' | 'stale';

/** What to do with one executor message. */
export type RelayDecision =
  /** `V0ExecutorReadyRequest`, token stripped: the startup stage is done. */
  | { readonly kind: 'ready'; readonly message: MinerToValidatorMessageInput }
  /** A progress message, relayed as it is (token stripped, streaming address filled in and signed). */
  | { readonly kind: 'relay'; readonly message: MinerToValidatorMessageInput }
  /** The job's last word (relayed, then the job ends). */
  | { readonly kind: 'final'; readonly message: MinerToValidatorMessageInput; readonly outcome: JobOutcome }
  /** Not for this job (another job uuid): dropped. */
  | { readonly kind: 'ignore'; readonly why: string };

/** What {@link relayDecision} needs besides the message. */
export interface RelayContext {
  readonly jobUuid: string;
  /** The executor's address for streaming clients (backend's public address, `X-Real-IP`, or the peer address). */
  readonly executorIp: string | undefined;
  /** Signs `"{job_uuid}:{ip}:{port}:{public_key}"` with the miner hotkey. */
  readonly signStreamingReady: (fields: { job_uuid: string; ip: string; port: number; public_key: string }) => string;
}

/**
 * Upstream's `V0HordeFailedRequest` for a failure the executor reported as a bare GenericError.
 *
 * @example
 * ```ts
 * hordeFailedFromExecutorError('7d…', 'boom'); // reported_by executor, reason generic_error, message 'boom'
 * ```
 */
export function hordeFailedFromExecutorError(jobUuid: string, details: string | null | undefined): V0HordeFailedRequest {
  return {
    message_type: 'V0HordeFailedRequest',
    job_uuid: jobUuid,
    reported_by: 'executor',
    message: details ?? 'Received GenericError from the executor with no details',
    reason: 'generic_error',
    context: null,
  };
}

/** A horde failure the miner itself reports (spin-up failed, executor disconnected, shutdown). */
export function minerHordeFailed(jobUuid: string, reason: V0HordeFailedRequest['reason'], message: string): V0HordeFailedRequest {
  return { message_type: 'V0HordeFailedRequest', job_uuid: jobUuid, reported_by: 'miner', message, reason, context: null };
}

/**
 * Decides what the validator gets for an executor message (see {@link RelayDecision}).
 *
 * @example
 * ```ts
 * const d = relayDecision(message, { jobUuid, executorIp, signStreamingReady });
 * if (d.kind === 'final') toValidator(d.message);
 * ```
 */
export function relayDecision(message: ExecutorToMinerMessage, context: RelayContext): RelayDecision {
  const { jobUuid } = context;
  if (message.message_type === 'GenericError') {
    return { kind: 'final', message: hordeFailedFromExecutorError(jobUuid, message.details), outcome: 'horde_failed' };
  }
  if (message.job_uuid !== jobUuid) return { kind: 'ignore', why: `message for job ${message.job_uuid}` };
  switch (message.message_type) {
    case 'V0ExecutorReadyRequest':
      return { kind: 'ready', message: { ...message, executor_token: null } };
    case 'V0StreamingJobReadyRequest': {
      const ip = context.executorIp ?? message.ip ?? '';
      const signature = context.signStreamingReady({ job_uuid: jobUuid, ip, port: message.port, public_key: message.public_key });
      return { kind: 'relay', message: { ...message, executor_token: null, ip, miner_signature: signature } };
    }
    case 'V0VolumesReadyRequest':
    case 'V0ExecutionDoneRequest':
    case 'V0MachineSpecsRequest':
      return { kind: 'relay', message };
    case 'V0JobFinishedRequest':
      return { kind: 'final', message, outcome: 'finished' };
    case 'V0JobFailedRequest':
      return { kind: 'final', message, outcome: 'failed' };
    case 'V0HordeFailedRequest':
      return { kind: 'final', message, outcome: 'horde_failed' };
    case 'V0ExecutorFailedRequest':
      return {
        kind: 'final',
        message: {
          message_type: 'V0HordeFailedRequest',
          job_uuid: jobUuid,
          reported_by: 'executor',
          reason: 'generic_error',
          message: 'Legacy executor failure (V0ExecutorFailedRequest)',
          context: null,
        },
        outcome: 'horde_failed',
      };
    case 'V0StreamingJobNotReadyRequest': {
      const failed: V0JobFailedRequest = {
        message_type: 'V0JobFailedRequest',
        job_uuid: jobUuid,
        message: 'Legacy streaming failure (V0StreamingJobNotReadyRequest)',
        reason: 'unknown',
        stage: 'streaming_startup',
        docker_process_exit_status: null,
        docker_process_stdout: null,
        docker_process_stderr: null,
        context: null,
      };
      return { kind: 'final', message: failed, outcome: 'failed' };
    }
  }
}

/**
 * The initial request the executor gets when it connects: the validator's, with `streaming_details.executor_ip`
 * filled in (upstream `MinerExecutorConsumer.connect`).
 */
export function initialRequestForExecutor(request: V0InitialJobRequest, executorIp: string | undefined): V0InitialJobRequest {
  if (request.streaming_details === null || request.streaming_details === undefined) return request;
  return { ...request, streaming_details: { ...request.streaming_details, executor_ip: executorIp ?? null } };
}
