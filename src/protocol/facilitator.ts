/**
 * Messages of the validator <-> facilitator link (`compute_horde/fv_protocol/*`). Unlike the miner/executor models,
 * most of these use `extra="forbid"` upstream: a field the peer does not declare is a validation error, so we refuse
 * them the same way (and never add any). `JobStatusMetadata`, `JobResultDetails` and `Error` use `extra="allow"`:
 * unknown fields are kept and written back after the declared ones, as pydantic does.
 */
import { FailureContext, Signature, StreamingDetails } from './common';
import {
  ExecutorClass,
  HordeFailureReason,
  JobFailureReason,
  JobParticipantType,
  JobRejectionReason,
  JobStage,
  JobStatus,
} from './enums';
import { OutputUpload } from './output-upload';
import {
  bool,
  enumeration,
  int,
  jsonValue,
  list,
  literal,
  object,
  optional,
  record,
  str,
  withDefault,
  type Infer,
} from './schema';
import { Volume } from './volume';

// ---------------------------------------------------------------------------------------------------------------
// facilitator -> validator

/** One error of a {@link Response}; pydantic validation errors add `loc`, `input`, `ctx`, `url` as extras. */
export const ResponseError = object(
  {
    msg: str(),
    type: str(),
    help: withDefault(str(), () => ''),
  },
  { extra: 'allow' },
);
export type ResponseError = Infer<typeof ResponseError>;

/**
 * Facilitator -> validator, the answer to `V0AuthenticationRequest` and to each `V0JobStatusUpdate`. It has no
 * `message_type`: links recognise it by shape (a `status` and no `message_type`).
 */
export const Response = object(
  {
    status: enumeration(['error', 'success']),
    errors: withDefault(list(ResponseError), () => []),
  },
  { extra: 'forbid' },
);
export type Response = Infer<typeof Response>;

/**
 * Facilitator -> validator: a job, signed by the SDK user. `type` routes it inside upstream's Channels consumer.
 * Upstream forwards it with Python's `json.dumps` (see the link codec). Fields from `executor_class` to
 * `streaming_details` are what `SignedFields` covers.
 */
export const V2JobRequest = object(
  {
    signature: optional(Signature),
    type: withDefault(literal('job.new'), () => 'job.new' as const),
    message_type: literal('V2JobRequest'),
    uuid: str(),
    job_namespace: optional(str()),
    executor_class: ExecutorClass,
    docker_image: str(),
    args: list(str()),
    env: record(str()),
    /** Deprecated upstream: no effect, but still signed. */
    use_gpu: withDefault(bool(), () => true),
    volume: optional(Volume),
    output_upload: optional(OutputUpload),
    artifacts_dir: optional(str()),
    on_trusted_miner: withDefault(bool(), () => false),
    download_time_limit: int(),
    execution_time_limit: int(),
    upload_time_limit: int(),
    streaming_start_time_limit: int(),
    streaming_details: optional(StreamingDetails),
  },
  { extra: 'forbid' },
);
export type V2JobRequest = Infer<typeof V2JobRequest>;

/**
 * Facilitator -> validator: the SDK user reports a cheated job. Upstream dumps it with `exclude_none`, so a missing
 * `signature` is left out. `details` is required upstream, yet the upstream facilitator leaves it out when it is
 * None; we read a missing `details` as `null` and always write it (an upstream validator refuses the frame without it).
 */
export const V0JobCheated = object(
  {
    signature: optional(Signature),
    type: withDefault(literal('job.cheated'), () => 'job.cheated' as const),
    message_type: literal('V0JobCheated'),
    job_uuid: str(),
    trusted_job_uuid: str(),
    details: withDefault(jsonValue(), () => null),
  },
  { extra: 'forbid', omitWhenNull: ['signature'] },
);
export type V0JobCheated = Infer<typeof V0JobCheated>;

// ---------------------------------------------------------------------------------------------------------------
// validator -> facilitator

/** Validator -> facilitator every 60 s; no reply. */
export const V0Heartbeat = object({ message_type: literal('V0Heartbeat') }, { extra: 'forbid' });
export type V0Heartbeat = Infer<typeof V0Heartbeat>;

/** Validator -> facilitator, first message: hex public key (no 0x) and `"0x"` + sr25519 signature of its bytes. */
export const V0AuthenticationRequest = object(
  {
    message_type: literal('V0AuthenticationRequest'),
    public_key: str(),
    signature: str(),
  },
  { extra: 'forbid' },
);
export type V0AuthenticationRequest = Infer<typeof V0AuthenticationRequest>;

/** The miner's result, relayed with the `completed` status. */
export const JobResultDetails = object(
  {
    docker_process_stderr: str(),
    docker_process_stdout: str(),
    artifacts: optional(record(str())),
    upload_results: optional(record(str())),
  },
  { extra: 'allow' },
);
export type JobResultDetails = Infer<typeof JobResultDetails>;

/** Why and by whom a job was rejected (`rejected` status). */
export const JobRejectionDetails = object({
  rejected_by: JobParticipantType,
  reason: JobRejectionReason,
  message: str(),
  context: optional(FailureContext),
});
export type JobRejectionDetails = Infer<typeof JobRejectionDetails>;

/** A job failure (`failed` status). */
export const JobFailureDetails = object({
  reason: JobFailureReason,
  stage: JobStage,
  message: str(),
  context: optional(FailureContext),
  docker_process_exit_status: optional(int()),
  docker_process_stdout: optional(str()),
  docker_process_stderr: optional(str()),
});
export type JobFailureDetails = Infer<typeof JobFailureDetails>;

/** A horde failure (`horde_failed` status). */
export const HordeFailureDetails = object({
  reported_by: JobParticipantType,
  reason: HordeFailureReason,
  message: str(),
  context: optional(FailureContext),
});
export type HordeFailureDetails = Infer<typeof HordeFailureDetails>;

/** Where the SDK reaches a streaming job (`streaming_ready` status). */
export const StreamingServerDetails = object(
  {
    streaming_server_cert: optional(str()),
    streaming_server_address: optional(str()),
    streaming_server_port: optional(int()),
  },
  { extra: 'forbid' },
);
export type StreamingServerDetails = Infer<typeof StreamingServerDetails>;

/** Metadata of a status update; at most one of the kinds is set in practice. */
export const JobStatusMetadata = object(
  {
    miner_response: optional(JobResultDetails),
    job_rejection_details: optional(JobRejectionDetails),
    job_failure_details: optional(JobFailureDetails),
    horde_failure_details: optional(HordeFailureDetails),
    streaming_details: optional(StreamingServerDetails),
  },
  { extra: 'allow' },
);
export type JobStatusMetadata = Infer<typeof JobStatusMetadata>;

/**
 * Validator -> facilitator on every status change (class `JobStatusUpdate` upstream). The facilitator answers with
 * a `Response`; it stores one row per (job, status), so a status reported twice gets `job.integrity_error`.
 */
export const V0JobStatusUpdate = object(
  {
    message_type: literal('V0JobStatusUpdate'),
    uuid: str(),
    status: JobStatus,
    metadata: optional(JobStatusMetadata),
  },
  { extra: 'forbid' },
);
export type V0JobStatusUpdate = Infer<typeof V0JobStatusUpdate>;

/** Validator -> facilitator: a miner's hardware specs (only the removed synthetic flow sent these). */
export const V0MachineSpecsUpdate = object(
  {
    message_type: literal('V0MachineSpecsUpdate'),
    miner_hotkey: str(),
    validator_hotkey: str(),
    specs: record(jsonValue()),
    batch_id: str(),
  },
  { extra: 'forbid' },
);
export type V0MachineSpecsUpdate = Infer<typeof V0MachineSpecsUpdate>;
