/**
 * Messages of the validator <-> miner and miner <-> executor links (`compute_horde/protocol_messages.py`, one set
 * of classes for all layers since upstream PR #452). Every model uses pydantic's default `extra="ignore"`: unknown
 * fields are dropped, never refused. Field order is upstream's declaration order.
 */
import { ExecutorTimingDetails, FailureContext, MachineSpecs, StreamingDetails } from './common';
import {
  DockerRunOptionsPreset,
  ExecutorClass,
  HordeFailureReason,
  JobFailureReason,
  JobParticipantType,
  JobRejectionReason,
  JobStage,
  UnauthorizedErrorCode,
} from './enums';
import { OutputUpload } from './output-upload';
import { JobAcceptedReceiptPayload, JobFinishedReceiptPayload, JobStartedReceiptPayload, Receipt } from './receipts';
import { int, list, literal, object, optional, record, str, withDefault, type Infer, type Input } from './schema';
import { Volume } from './volume';

/** Any direction. Logged; an executor's GenericError becomes a horde failure at the miner. */
export const GenericError = object({
  message_type: literal('GenericError'),
  details: optional(str()),
});
export type GenericError = Infer<typeof GenericError>;

/** Validator -> miner, first message: `signature` signs `"{validator_hotkey}:{miner_hotkey}:{timestamp}"`. */
export const ValidatorAuthForMiner = object({
  message_type: literal('ValidatorAuthForMiner'),
  validator_hotkey: str(),
  miner_hotkey: str(),
  timestamp: int(),
  signature: str(),
});
export type ValidatorAuthForMiner = Infer<typeof ValidatorAuthForMiner>;

/** Miner -> validator. Defined upstream but unused (the miner sends GenericError). */
export const UnauthorizedError = object({
  message_type: literal('UnauthorizedError'),
  code: UnauthorizedErrorCode,
  details: optional(str()),
});
export type UnauthorizedError = Infer<typeof UnauthorizedError>;

/** Miner -> validator, right after auth: executor count per class. */
export const V0ExecutorManifestRequest = object({
  message_type: literal('V0ExecutorManifestRequest'),
  manifest: record(int(), ExecutorClass),
});
export type V0ExecutorManifestRequest = Infer<typeof V0ExecutorManifestRequest>;

/** Both directions: `null` asks "which hotkey is main this cycle?", a hotkey answers. */
export const V0MainHotkeyMessage = object({
  message_type: literal('V0MainHotkeyMessage'),
  main_hotkey: optional(str()),
});
export type V0MainHotkeyMessage = Infer<typeof V0MainHotkeyMessage>;

/** Validator -> miner -> executor: reserve and start an executor; carries the signed JobStarted receipt. */
export const V0InitialJobRequest = object({
  message_type: literal('V0InitialJobRequest'),
  job_uuid: str(),
  executor_class: ExecutorClass,
  docker_image: optional(str()),
  /** Deprecated single time limit; used only without `executor_timing`. */
  timeout_seconds: optional(int()),
  volume: optional(Volume),
  job_started_receipt_payload: JobStartedReceiptPayload,
  job_started_receipt_signature: str(),
  streaming_details: optional(StreamingDetails),
  executor_timing: optional(ExecutorTimingDetails),
});
export type V0InitialJobRequest = Infer<typeof V0InitialJobRequest>;

/** Miner -> validator: declined (busy, with excuse receipts; or validator blacklisted). */
export const V0DeclineJobRequest = object({
  message_type: literal('V0DeclineJobRequest'),
  job_uuid: str(),
  message: withDefault(str(), () => ''),
  reason: withDefault(JobRejectionReason, () => 'unknown' as const),
  receipts: withDefault(list(Receipt), () => []),
  context: optional(FailureContext),
});
export type V0DeclineJobRequest = Infer<typeof V0DeclineJobRequest>;

/** Miner -> validator: an executor was reserved (not yet started). */
export const V0AcceptJobRequest = object({
  message_type: literal('V0AcceptJobRequest'),
  job_uuid: str(),
});
export type V0AcceptJobRequest = Infer<typeof V0AcceptJobRequest>;

/** Deprecated (use V0HordeFailedRequest). Executor -> miner -> validator. */
export const V0ExecutorFailedRequest = object({
  message_type: literal('V0ExecutorFailedRequest'),
  job_uuid: str(),
  executor_token: optional(str()),
});
export type V0ExecutorFailedRequest = Infer<typeof V0ExecutorFailedRequest>;

/** Deprecated (use V0HordeFailedRequest / V0JobFailedRequest). Executor -> miner -> validator. */
export const V0StreamingJobNotReadyRequest = object({
  message_type: literal('V0StreamingJobNotReadyRequest'),
  job_uuid: str(),
  executor_token: optional(str()),
});
export type V0StreamingJobNotReadyRequest = Infer<typeof V0StreamingJobNotReadyRequest>;

/** Executor -> miner -> validator: startup stage done. The miner strips `executor_token` before relaying. */
export const V0ExecutorReadyRequest = object({
  message_type: literal('V0ExecutorReadyRequest'),
  job_uuid: str(),
  executor_token: optional(str()),
});
export type V0ExecutorReadyRequest = Infer<typeof V0ExecutorReadyRequest>;

/**
 * Executor -> miner -> validator: the streaming server is up. The miner fills `ip` and signs
 * `"{job_uuid}:{ip}:{port}:{public_key}"` into `miner_signature`.
 */
export const V0StreamingJobReadyRequest = object({
  message_type: literal('V0StreamingJobReadyRequest'),
  job_uuid: str(),
  executor_token: optional(str()),
  public_key: str(),
  ip: optional(str()),
  port: int(),
  miner_signature: optional(str()),
});
export type V0StreamingJobReadyRequest = Infer<typeof V0StreamingJobReadyRequest>;

/** Executor -> miner -> validator: volume download finished. */
export const V0VolumesReadyRequest = object({
  message_type: literal('V0VolumesReadyRequest'),
  job_uuid: str(),
});
export type V0VolumesReadyRequest = Infer<typeof V0VolumesReadyRequest>;

/** Executor -> miner -> validator: the job container exited successfully. */
export const V0ExecutionDoneRequest = object({
  message_type: literal('V0ExecutionDoneRequest'),
  job_uuid: str(),
});
export type V0ExecutionDoneRequest = Infer<typeof V0ExecutionDoneRequest>;

/** Validator -> miner -> executor: the full job, sent after V0ExecutorReadyRequest. */
export const V0JobRequest = object({
  message_type: literal('V0JobRequest'),
  job_uuid: str(),
  executor_class: ExecutorClass,
  docker_image: str(),
  raw_script: optional(str()),
  docker_run_options_preset: DockerRunOptionsPreset,
  docker_run_cmd: list(str()),
  env: withDefault(record(str()), () => ({})),
  volume: optional(Volume),
  output_upload: optional(OutputUpload),
  artifacts_dir: optional(str()),
});
export type V0JobRequest = Infer<typeof V0JobRequest>;

/**
 * Executor -> miner -> validator: a consumer-actionable failure. Older peers send `error_detail`/`error_type`;
 * they are read as `message`/`reason` (upstream's validation aliases) and always written back under the new names.
 */
export const V0JobFailedRequest = object(
  {
    message_type: literal('V0JobFailedRequest'),
    job_uuid: str(),
    message: withDefault(str(), () => ''),
    reason: withDefault(JobFailureReason, () => 'unknown' as const),
    stage: withDefault(JobStage, () => 'unknown' as const),
    docker_process_exit_status: optional(int()),
    docker_process_stdout: optional(str()),
    docker_process_stderr: optional(str()),
    context: optional(FailureContext),
  },
  { aliases: { message: ['error_detail'], reason: ['error_type'] } },
);
export type V0JobFailedRequest = Infer<typeof V0JobFailedRequest>;

/** Executor -> miner -> validator: success, after the upload. `upload_results` values are JSON text. */
export const V0JobFinishedRequest = object({
  message_type: literal('V0JobFinishedRequest'),
  job_uuid: str(),
  docker_process_stdout: str(),
  docker_process_stderr: str(),
  artifacts: optional(record(str())),
  upload_results: optional(record(str())),
});
export type V0JobFinishedRequest = Infer<typeof V0JobFinishedRequest>;

/** Validator -> miner, right after V0AcceptJobRequest. */
export const V0JobAcceptedReceiptRequest = object({
  message_type: literal('V0JobAcceptedReceiptRequest'),
  payload: JobAcceptedReceiptPayload,
  signature: str(),
});
export type V0JobAcceptedReceiptRequest = Infer<typeof V0JobAcceptedReceiptRequest>;

/** Validator -> miner at the end of every job, success or failure. */
export const V0JobFinishedReceiptRequest = object({
  message_type: literal('V0JobFinishedReceiptRequest'),
  payload: JobFinishedReceiptPayload,
  signature: str(),
});
export type V0JobFinishedReceiptRequest = Infer<typeof V0JobFinishedReceiptRequest>;

/** Executor -> miner -> validator, just before V0JobFinishedRequest. */
export const V0MachineSpecsRequest = object({
  message_type: literal('V0MachineSpecsRequest'),
  job_uuid: str(),
  specs: MachineSpecs,
});
export type V0MachineSpecsRequest = Infer<typeof V0MachineSpecsRequest>;

/** Executor/miner -> validator: an infrastructure failure (the network's fault, not the job's). */
export const V0HordeFailedRequest = object({
  message_type: literal('V0HordeFailedRequest'),
  job_uuid: str(),
  reported_by: JobParticipantType,
  message: str(),
  reason: HordeFailureReason,
  context: optional(FailureContext),
});
export type V0HordeFailedRequest = Infer<typeof V0HordeFailedRequest>;
export type V0HordeFailedRequestInput = Input<typeof V0HordeFailedRequest>;
