/**
 * The protocol's enums (string values are what goes on the wire).
 *
 * The six status/reason enums have upstream's `_missing_ -> UNKNOWN` fallback: any value that is not a member
 * (a newer peer's new reason, even a non-string) decodes as `'unknown'`.
 *
 * `ExecutorClass` has no such fallback upstream, but Horde gives it one on purpose, so that a newer peer announcing a
 * class we do not know yet (in a manifest, a job request or a receipt) cannot break an older one: the class decodes as
 * `'unknown'`, which no pool serves (a job for it is declined) and whose receipts fail signature checks (their payload
 * no longer re-encodes to the signed bytes), so nothing is credited for a class we cannot judge. In a manifest, several
 * unknown classes collapse into one `'unknown'` entry; nobody routes to it. `DockerRunOptionsPreset`,
 * `UnauthorizedErrorCode` and `SignatureScope` stay strict: an unknown preset or signature scope must not run or verify.
 */
import { enumeration, type Infer } from './schema';

/** Executor classes (`compute_horde_core.executor_class.ExecutorClass`). */
export const ExecutorClass = enumeration(
  ['unknown', 'spin_up-4min.gpu-24gb', 'always_on.gpu-24gb', 'always_on.llm.a6000', 'always_on.test', 'always_on.cpu.8c.16gb'],
  { fallback: 'unknown' },
);
export type ExecutorClass = Infer<typeof ExecutorClass>;

/** Job status reported validator -> facilitator -> SDK. */
export const JobStatus = enumeration(
  [
    'unknown',
    'sent',
    'received',
    'accepted',
    'executor_ready',
    'streaming_ready',
    'volumes_ready',
    'execution_done',
    'completed',
    'rejected',
    'failed',
    'horde_failed',
  ],
  { fallback: 'unknown' },
);
export type JobStatus = Infer<typeof JobStatus>;

/** The statuses after which a job never changes again. */
export const JOB_STATUS_END_STATES: ReadonlySet<JobStatus> = new Set<JobStatus>(['completed', 'rejected', 'failed', 'horde_failed']);

/** Stage of the executor's job driver a failure happened in. */
export const JobStage = enumeration(
  ['unknown', 'executor_startup', 'volume_download', 'streaming_startup', 'execution', 'result_upload'],
  { fallback: 'unknown' },
);
export type JobStage = Infer<typeof JobStage>;

/** Who reported a failure or rejected a job. */
export const JobParticipantType = enumeration(['unknown', 'sdk', 'facilitator', 'validator', 'miner', 'executor'], {
  fallback: 'unknown',
});
export type JobParticipantType = Infer<typeof JobParticipantType>;

/** Why a job was declined. */
export const JobRejectionReason = enumeration(
  ['unknown', 'busy', 'invalid_signature', 'no_miner_for_job', 'validator_blacklisted'],
  { fallback: 'unknown' },
);
export type JobRejectionReason = Infer<typeof JobRejectionReason>;

/** A job failure that is the consumer's fault or an expected job outcome. */
export const JobFailureReason = enumeration(['unknown', 'timeout', 'nonzero_return_code', 'download_failed', 'upload_failed'], {
  fallback: 'unknown',
});
export type JobFailureReason = Infer<typeof JobFailureReason>;

/** A failure that is the network's fault. */
export const HordeFailureReason = enumeration(
  [
    'unknown',
    'generic_error',
    'unhandled_exception',
    'unhandled_timeout',
    'streaming_failed',
    'miner_connection_failed',
    'initial_response_timed_out',
    'executor_readiness_response_timed_out',
    'volumes_timed_out',
    'streaming_job_ready_timed_out',
    'execution_timed_out',
    'final_response_timed_out',
    'executor_spinup_failed',
    'executor_disconnected',
    'security_check_failed',
  ],
  { fallback: 'unknown' },
);
export type HordeFailureReason = Infer<typeof HordeFailureReason>;

/** Docker run options preset of `V0JobRequest` (upstream `Literal["nvidia_all", "none"]`). */
export const DockerRunOptionsPreset = enumeration(['nvidia_all', 'none']);
export type DockerRunOptionsPreset = Infer<typeof DockerRunOptionsPreset>;

/** `UnauthorizedError.code` (defined upstream; the current miner sends `GenericError` instead). */
export const UnauthorizedErrorCode = enumeration(['TOKEN_TOO_OLD', 'UNKNOWN_VALIDATOR', 'VALIDATOR_INACTIVE']);
export type UnauthorizedErrorCode = Infer<typeof UnauthorizedErrorCode>;

/** What an SDK signature covers. */
export const SignatureScope = enumeration(['SignedFields', 'FullRequest']);
export type SignatureScope = Infer<typeof SignatureScope>;
