/**
 * Receipts (`compute_horde.receipts.schemas`). Payloads are signed by the validator and counter-signed by the
 * miner over Python's `json.dumps(payload.model_dump(mode="json"), sort_keys=True)`; datetimes are kept as the
 * ISO strings received so that a re-encoded payload is byte-identical. `receipt_type` has a default upstream, so a
 * payload outside a union may omit it; inside {@link ReceiptPayload} it is the discriminator and must be present.
 */
import { ExecutorClass } from './enums';
import { bool, datetime, discriminatedUnion, int, list, literal, object, str, withDefault, type Infer } from './schema';

/** Issued in `V0InitialJobRequest`; reserves an executor for `ttl` seconds. */
export const JobStartedReceiptPayload = object({
  job_uuid: str(),
  miner_hotkey: str(),
  validator_hotkey: str(),
  timestamp: datetime(),
  receipt_type: withDefault(literal('JobStartedReceipt'), () => 'JobStartedReceipt' as const),
  executor_class: ExecutorClass,
  is_organic: bool(),
  ttl: int(),
});
export type JobStartedReceiptPayload = Infer<typeof JobStartedReceiptPayload>;

/** Issued right after the miner accepts a job. */
export const JobAcceptedReceiptPayload = object({
  job_uuid: str(),
  miner_hotkey: str(),
  validator_hotkey: str(),
  timestamp: datetime(),
  receipt_type: withDefault(literal('JobAcceptedReceipt'), () => 'JobAcceptedReceipt' as const),
  time_accepted: datetime(),
  ttl: int(),
});
export type JobAcceptedReceiptPayload = Infer<typeof JobAcceptedReceiptPayload>;

/** Issued at the end of every job (score `"0.000000"` and no blocks on failure). */
export const JobFinishedReceiptPayload = object({
  job_uuid: str(),
  miner_hotkey: str(),
  validator_hotkey: str(),
  timestamp: datetime(),
  receipt_type: withDefault(literal('JobFinishedReceipt'), () => 'JobFinishedReceipt' as const),
  time_started: datetime(),
  time_took_us: int(),
  score_str: str(),
  block_numbers: withDefault(list(int()), () => []),
});
export type JobFinishedReceiptPayload = Infer<typeof JobFinishedReceiptPayload>;

/** `ReceiptPayload`, discriminated by `receipt_type`. */
export const ReceiptPayload = discriminatedUnion('receipt_type', [
  JobStartedReceiptPayload,
  JobAcceptedReceiptPayload,
  JobFinishedReceiptPayload,
]);
export type ReceiptPayload = Infer<typeof ReceiptPayload>;

/** A payload with both signatures (`"0x"` + hex sr25519), as in excuses and the miner's JSONL pages. */
export const Receipt = object({
  payload: ReceiptPayload,
  validator_signature: str(),
  miner_signature: str(),
});
export type Receipt = Infer<typeof Receipt>;
