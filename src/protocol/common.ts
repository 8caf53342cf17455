/**
 * Small models shared by several messages: streaming details, SDK signatures, executor timing, machine specs.
 */
import { SignatureScope } from './enums';
import { bigint, int, jsonValue, object, optional, pattern, record, str, withDefault, type Infer } from './schema';

/** Streaming job: the client's TLS certificate, plus the executor's IP once the miner fills it in. */
export const StreamingDetails = object({
  public_key: str(),
  executor_ip: optional(str()),
});
export type StreamingDetails = Infer<typeof StreamingDetails>;

/** Canonical base64 (what Python's `b64encode` writes). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * An SDK request signature (`compute_horde_core.signature.Signature`, `extra="forbid"`). `signature` stays base64
 * text; `timestamp_ns` is a `bigint` because nanoseconds since 1970 are past 2^53.
 */
export const Signature = object(
  {
    signature_type: withDefault(str(), () => ''),
    signatory: withDefault(str(), () => ''),
    timestamp_ns: withDefault(bigint(), () => 0n),
    signature: pattern(BASE64, 'base64 text'),
    signature_scope: withDefault(SignatureScope, () => 'SignedFields' as const),
  },
  { extra: 'forbid' },
);
export type Signature = Infer<typeof Signature>;

/** Fine-grained time limits of `V0InitialJobRequest` (seconds); without them the executor uses `timeout_seconds`. */
export const ExecutorTimingDetails = object({
  allowed_leeway: int(),
  download_time_limit: int(),
  execution_time_limit: int(),
  upload_time_limit: int(),
  streaming_start_time_limit: int(),
});
export type ExecutorTimingDetails = Infer<typeof ExecutorTimingDetails>;

/** Hardware specs reported by an executor (`compute_horde.utils.MachineSpecs`): `{"specs": {...}}`. */
export const MachineSpecs = object({
  specs: record(jsonValue()),
});
export type MachineSpecs = Infer<typeof MachineSpecs>;

/** `dict[str, JsonValue]` attached to failures and rejections. */
export const FailureContext = record(jsonValue());
export type FailureContext = Infer<typeof FailureContext>;
