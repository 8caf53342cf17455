/**
 * Deprecated messages that older executors/miners still send, mapped to what replaced them. Pure functions.
 */
import type { JobParticipantType } from './enums';
import type { V0ExecutorFailedRequest, V0HordeFailedRequest, V0StreamingJobNotReadyRequest } from './messages';

/** A deprecated failure message. */
export type LegacyFailure = V0ExecutorFailedRequest | V0StreamingJobNotReadyRequest;

/** True for `V0ExecutorFailedRequest` and `V0StreamingJobNotReadyRequest`. */
export function isLegacyFailure(msg: { message_type: string }): msg is LegacyFailure {
  return msg.message_type === 'V0ExecutorFailedRequest' || msg.message_type === 'V0StreamingJobNotReadyRequest';
}

/**
 * The `V0HordeFailedRequest` an upstream validator turns a legacy failure into: `generic_error` for
 * `V0ExecutorFailedRequest`, `streaming_failed` for `V0StreamingJobNotReadyRequest`, reported by the miner (the
 * peer the validator heard it from) unless `reportedBy` says otherwise.
 *
 * @example
 * ```ts
 * if (isLegacyFailure(msg)) msg = legacyToHordeFailed(msg);
 * ```
 */
export function legacyToHordeFailed(msg: LegacyFailure, reportedBy: JobParticipantType = 'miner'): V0HordeFailedRequest {
  const streaming = msg.message_type === 'V0StreamingJobNotReadyRequest';
  return {
    message_type: 'V0HordeFailedRequest',
    job_uuid: msg.job_uuid,
    reported_by: reportedBy,
    message: `Executor reported legacy ${msg.message_type} message`,
    reason: streaming ? 'streaming_failed' : 'generic_error',
    context: null,
  };
}
