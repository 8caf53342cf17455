/**
 * The facilitator's REST shapes (`/auth/*`, `/api/v1/*`), shared by the facilitator (which validates what it
 * receives and builds what it sends) and the SDK (which builds requests and may validate answers).
 *
 * Mirrors upstream's DRF serializers (`JobDockerSerializer`, `JobSerializer`, `JobStatusSerializer`): the create
 * body takes the writable fields, volumes as a flat list of single volumes and uploads as a flat list of
 * single-file uploads (the facilitator wraps them in `multi_volume` / `multi_upload` for `V2JobRequest`). Missing
 * fields take the same defaults `SignedFields.from_facilitator_sdk_json` assumes, so the signature the SDK made over
 * the body still verifies on the validator after the facilitator filled the defaults in.
 *
 * Every schema here is a `src/protocol/schema.ts` schema: `X.validate(json)` gives the typed value or the first
 * invalid field with its JSON path (`volumes[0].contents`), and `Infer<typeof X>` is its type.
 */
import { isValidSs58 } from '../crypto/keys';
import { StreamingDetails } from '../protocol/common';
import { ExecutorClass, JobStatus } from '../protocol/enums';
import { JobStatusMetadata } from '../protocol/facilitator';
import { SingleFileUpload } from '../protocol/output-upload';
import {
  bool,
  datetime,
  enumeration,
  int,
  jsonValue,
  list,
  nullable,
  object,
  optional,
  record,
  str,
  withDefault,
  type Infer,
  type Input,
} from '../protocol/schema';
import { SingleVolume } from '../protocol/volume';
import type { Result } from '../util/result';

// ---------------------------------------------------------------------------------------------------------------
// Paths

/** REST paths, with upstream's trailing slashes. `{uuid}` paths are built by {@link jobPath} / {@link jobEventsPath}. */
export const FACILITATOR_API_PATHS = {
  nonce: '/auth/nonce',
  login: '/auth/login',
  createJob: '/api/v1/job-docker/',
  jobs: '/api/v1/jobs/',
  cheatedJob: '/api/v1/cheated-job/',
  /** Validators' WebSocket endpoint (not REST, listed so both sides agree on it). */
  validatorWebSocket: '/ws/v0/',
} as const;

/** `GET /api/v1/jobs/{uuid}/`. */
export function jobPath(uuid: string): string {
  return `${FACILITATOR_API_PATHS.jobs}${encodeURIComponent(uuid)}/`;
}

/**
 * `GET /api/v1/jobs/{uuid}/events/` — Horde extension: Server-Sent Events, one `event: status` per status-history
 * entry (`data:` a {@link StatusHistoryEntry} JSON), the stream ends after a terminal status.
 */
export function jobEventsPath(uuid: string): string {
  return `${jobPath(uuid)}events/`;
}

/** The SSE event name of a status-history entry on {@link jobEventsPath}. */
export const JOB_EVENTS_STATUS_EVENT = 'status';

// ---------------------------------------------------------------------------------------------------------------
// Auth

/** `GET /auth/nonce` answer. */
export const NonceResponse = object({ nonce: str() });
export type NonceResponse = Infer<typeof NonceResponse>;

/** `POST /auth/login` body: `signature` is hex (no 0x) of the sr25519 signature of the nonce's UTF-8 bytes. */
export const LoginBody = object({ hotkey: str(), signature: str(), nonce: str() });
export type LoginBody = Infer<typeof LoginBody>;

/** `POST /auth/login` answer: an HS256 JWT to send as `Authorization: Bearer <token>`. */
export const TokenResponse = object({ token: str() });
export type TokenResponse = Infer<typeof TokenResponse>;

// ---------------------------------------------------------------------------------------------------------------
// Create job

/** Executor classes a job may ask for (the wire enum without its `unknown` fallback: a typo is a 400, not a job). */
export const RequestableExecutorClass = enumeration(ExecutorClass.values.filter((v) => v !== 'unknown'));
export type RequestableExecutorClass = Infer<typeof RequestableExecutorClass>;

/**
 * `POST /api/v1/job-docker/` body (upstream's writable fields). Sign it with `signJobBody` (SignedFields scope) and
 * send the signature as `X-CH-*` headers. `target_validator_hotkey` may be left out: Horde then picks the least
 * recently used validator that has a fresh connection (upstream requires it).
 *
 * @example
 * ```ts
 * const body: CreateJobBodyInput = { executor_class: 'always_on.test', docker_image: 'alpine', args: ['echo', 'hi'],
 *   download_time_limit: 5, execution_time_limit: 10, upload_time_limit: 5, streaming_start_time_limit: 5 };
 * const checked = validateCreateJobBody(body); // ok, or { errors: { field: [message] } }
 * ```
 */
export const CreateJobBody = object({
  target_validator_hotkey: optional(str()),
  executor_class: RequestableExecutorClass,
  docker_image: str(),
  job_namespace: optional(str()),
  args: withDefault(list(str()), () => []),
  env: withDefault(record(str()), () => ({})),
  /** Deprecated upstream (no effect) but signed; defaults to false like `SignedFields.from_facilitator_sdk_json`. */
  use_gpu: withDefault(bool(), () => false),
  tag: withDefault(str(), () => ''),
  volumes: withDefault(list(SingleVolume), () => []),
  uploads: withDefault(list(SingleFileUpload), () => []),
  artifacts_dir: optional(str()),
  on_trusted_miner: withDefault(bool(), () => false),
  download_time_limit: withDefault(int(), () => 0),
  execution_time_limit: withDefault(int(), () => 0),
  streaming_start_time_limit: withDefault(int(), () => 0),
  upload_time_limit: withDefault(int(), () => 0),
  streaming_details: optional(StreamingDetails),
});
export type CreateJobBody = Infer<typeof CreateJobBody>;
export type CreateJobBodyInput = Input<typeof CreateJobBody>;

/** DRF-style field errors: `{field path: [message, ...]}`; `non_field_errors` for the body as a whole. */
export type FieldErrors = Record<string, string[]>;

const TIME_LIMIT_FIELDS = ['download_time_limit', 'execution_time_limit', 'streaming_start_time_limit', 'upload_time_limit'] as const;

/**
 * Validates a parsed create-job body: the schema (first invalid field, with its path) plus the checks a schema
 * cannot say: non-negative time limits, a non-empty image, an SS58 target validator. Never throws.
 *
 * @example
 * ```ts
 * const r = validateCreateJobBody(JSON.parse(text));
 * if (!r.ok) reply(400, { errors: r.error });
 * ```
 */
export function validateCreateJobBody(input: unknown): Result<CreateJobBody, FieldErrors> {
  const parsed = CreateJobBody.validate(input);
  if (!parsed.ok) return { ok: false, error: { [parsed.error.path || 'non_field_errors']: [parsed.error.message] } };
  const body = parsed.value;
  const errors: FieldErrors = {};
  const add = (field: string, message: string) => (errors[field] ??= []).push(message);
  if (body.docker_image.trim() === '') add('docker_image', 'This field may not be blank.');
  for (const field of TIME_LIMIT_FIELDS) {
    if (body[field] < 0) add(field, 'Ensure this value is greater than or equal to 0.');
  }
  if (body.target_validator_hotkey !== null && !isValidSs58(body.target_validator_hotkey)) {
    add('target_validator_hotkey', 'Not a valid SS58 address.');
  }
  return Object.keys(errors).length === 0 ? { ok: true, value: body } : { ok: false, error: errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Cheated job

/** `POST /api/v1/cheated-job/` body (signed with FullRequest scope: `signFullRequestBody`). */
export const CheatedJobBody = object({
  job_uuid: str(),
  trusted_job_uuid: str(),
  details: withDefault(jsonValue(), () => null),
});
export type CheatedJobBody = Infer<typeof CheatedJobBody>;
export type CheatedJobBodyInput = Input<typeof CheatedJobBody>;

/** `POST /api/v1/cheated-job/` answer (201). */
export const CheatedJobResponse = object({ message: str() });
export type CheatedJobResponse = Infer<typeof CheatedJobResponse>;

// ---------------------------------------------------------------------------------------------------------------
// Job JSON

/** Upstream's legacy display form of a status (`get_legacy_status_display`), the job JSON's top-level `status`. */
export const DisplayStatus = enumeration([
  'Unknown',
  'Sent',
  'Received',
  'Accepted',
  'Executor Ready',
  'Streaming Ready',
  'Volumes Ready',
  'Execution Done',
  'Completed',
  'Rejected',
  'Failed',
  'Horde Failed',
]);
export type DisplayStatus = Infer<typeof DisplayStatus>;

/** Wire status → display status. */
export const JOB_STATUS_DISPLAY: Readonly<Record<JobStatus, DisplayStatus>> = {
  unknown: 'Unknown',
  sent: 'Sent',
  received: 'Received',
  accepted: 'Accepted',
  executor_ready: 'Executor Ready',
  streaming_ready: 'Streaming Ready',
  volumes_ready: 'Volumes Ready',
  execution_done: 'Execution Done',
  completed: 'Completed',
  rejected: 'Rejected',
  failed: 'Failed',
  horde_failed: 'Horde Failed',
};

/** The display form of a wire status. */
export function displayStatus(status: JobStatus): DisplayStatus {
  return JOB_STATUS_DISPLAY[status];
}

/** The wire status of a display status (`Unknown` for `Unknown`). */
export function statusFromDisplay(display: DisplayStatus): JobStatus {
  for (const [status, shown] of Object.entries(JOB_STATUS_DISPLAY)) if (shown === display) return status as JobStatus;
  return 'unknown';
}

/** Display statuses after which a job never changes again. */
export const TERMINAL_DISPLAY_STATUSES: ReadonlySet<DisplayStatus> = new Set<DisplayStatus>(['Completed', 'Rejected', 'Failed', 'Horde Failed']);

/** One entry of a job's `status_history` (and one SSE `status` event): the wire status, its metadata, when stored. */
export const StatusHistoryEntry = object({
  status: JobStatus,
  metadata: optional(JobStatusMetadata),
  /** ISO-8601 UTC. */
  created_at: datetime(),
});
export type StatusHistoryEntry = Infer<typeof StatusHistoryEntry>;

/**
 * The job JSON of `GET /api/v1/jobs/{uuid}/`, of each list result and of the 201 of a create.
 * `stdout`/`stderr`/`artifacts`/`upload_results` come from the last status's `miner_response` ("" / {} before);
 * `streaming_server_*` from the `streaming_ready` status (null before). Times are ISO-8601 UTC.
 */
export const JobJson = object({
  uuid: str(),
  executor_class: ExecutorClass,
  created_at: datetime(),
  last_update: datetime(),
  status: DisplayStatus,
  docker_image: str(),
  job_namespace: optional(str()),
  args: list(str()),
  env: record(str()),
  use_gpu: bool(),
  tag: str(),
  stdout: str(),
  stderr: str(),
  volumes: list(SingleVolume),
  uploads: list(SingleFileUpload),
  artifacts: record(str()),
  artifacts_dir: optional(str()),
  target_validator_hotkey: str(),
  on_trusted_miner: bool(),
  upload_results: record(str()),
  download_time_limit: int(),
  execution_time_limit: int(),
  streaming_start_time_limit: int(),
  upload_time_limit: int(),
  streaming_server_cert: optional(str()),
  streaming_server_address: optional(str()),
  streaming_server_port: optional(int()),
  status_history: list(StatusHistoryEntry),
});
export type JobJson = Infer<typeof JobJson>;

/** `GET /api/v1/jobs/?page=&page_size=&tag=&uuid=` answer (DRF PageNumberPagination); `next`/`previous` are absolute URLs. */
export const JobsPage = object({
  count: int(),
  next: nullable(str()),
  previous: nullable(str()),
  results: list(JobJson),
});
export type JobsPage = Infer<typeof JobsPage>;

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** 400 with field errors (`{"errors": {"volumes[0].contents": ["field required"]}}`). */
export const FieldErrorsBody = object({ errors: record(list(str())) });
export type FieldErrorsBody = Infer<typeof FieldErrorsBody>;

/** 400/401/404/413/...: `{"detail": "Could not select Validator"}`. */
export const DetailBody = object({ detail: str() });
export type DetailBody = Infer<typeof DetailBody>;

/** Either error body; {@link errorMessageOf} turns one into one line. */
export type ErrorBody = FieldErrorsBody | DetailBody;

/** A one-line message from an error body (`detail`, or `field: message; ...`), or undefined when it is neither shape. */
export function errorMessageOf(body: unknown): string | undefined {
  const detail = DetailBody.validate(body);
  if (detail.ok) return detail.value.detail;
  const fields = FieldErrorsBody.validate(body);
  if (fields.ok) {
    return Object.entries(fields.value.errors)
      .map(([field, messages]) => `${field}: ${messages.join(' ')}`)
      .join('; ');
  }
  return undefined;
}

/** The `detail` texts the facilitator answers with (stable: the SDK may match on them). */
export const FACILITATOR_ERROR_DETAILS = {
  couldNotSelectValidator: 'Could not select Validator',
  tokenExpired: 'Token expired',
  invalidToken: 'Invalid token',
  notAuthenticated: 'Authentication credentials were not provided.',
  notFound: 'Not found.',
  bodyTooLarge: 'Request body too large.',
  invalidJson: 'JSON parse error',
  signatureNotFound: 'Signature not found in headers',
  signatureInvalid: 'Signature is invalid',
  hotkeyNotWhitelisted: 'Hotkey is not whitelisted',
} as const;
