/**
 * Receipt signing (upstream `compute_horde/receipts/schemas.py`). The validator signs a payload's blob, the miner
 * countersigns the same blob, and anyone can check both signatures with the hotkeys named in the payload.
 *
 * The blob is `json.dumps(payload.model_dump(mode="json"), sort_keys=True)`. Upstream always parses a payload into
 * its pydantic model before taking the blob, so the blob holds exactly the fields the receipt type declares (extra
 * fields dropped, `block_numbers` defaulting to `[]`) and datetimes in pydantic's canonical text. `receiptBlob`
 * does the same, so a payload whose JSON spelled a datetime differently (`+00:00` instead of `Z`) still verifies
 * exactly when upstream would.
 */
import { err, ok, type Result } from '../util/result';
import { ReceiptPayloadError } from './errors';
import { signBlob, verify, type Hotkey } from './keys';
import { pythonJsonDumps, type JsonInput } from '../protocol/json';

export type ReceiptType = 'JobStartedReceipt' | 'JobAcceptedReceipt' | 'JobFinishedReceipt';

interface BaseReceiptPayload {
  readonly job_uuid: string;
  readonly miner_hotkey: string;
  readonly validator_hotkey: string;
  /** ISO datetime as pydantic writes it (`2025-01-02T03:04:05.123456Z`); see `pydanticDatetime`. */
  readonly timestamp: string;
}

export interface JobStartedReceiptPayload extends BaseReceiptPayload {
  readonly receipt_type: 'JobStartedReceipt';
  readonly executor_class: string;
  readonly is_organic: boolean;
  /** Seconds. */
  readonly ttl: number;
}

export interface JobAcceptedReceiptPayload extends BaseReceiptPayload {
  readonly receipt_type: 'JobAcceptedReceipt';
  readonly time_accepted: string;
  /** Seconds (unused upstream). */
  readonly ttl: number;
}

export interface JobFinishedReceiptPayload extends BaseReceiptPayload {
  readonly receipt_type: 'JobFinishedReceipt';
  readonly time_started: string;
  readonly time_took_us: number;
  /** `f"{score:.6f}"`. */
  readonly score_str: string;
  readonly block_numbers: readonly number[];
}

export type ReceiptPayload = JobStartedReceiptPayload | JobAcceptedReceiptPayload | JobFinishedReceiptPayload;

export interface Receipt<P extends ReceiptPayload = ReceiptPayload> {
  readonly payload: P;
  /** `"0x" + hex`, by `payload.validator_hotkey`. */
  readonly validator_signature: string;
  /** `"0x" + hex`, by `payload.miner_hotkey`. */
  readonly miner_signature: string;
}

type FieldKind = 'string' | 'datetime' | 'int' | 'bool' | 'int_list';

const COMMON_FIELDS: ReadonlyArray<readonly [string, FieldKind]> = [
  ['job_uuid', 'string'],
  ['miner_hotkey', 'string'],
  ['validator_hotkey', 'string'],
  ['timestamp', 'datetime'],
  ['receipt_type', 'string'],
];

const FIELDS_BY_TYPE: Readonly<Record<ReceiptType, ReadonlyArray<readonly [string, FieldKind]>>> = {
  JobStartedReceipt: [
    ['executor_class', 'string'],
    ['is_organic', 'bool'],
    ['ttl', 'int'],
  ],
  JobAcceptedReceipt: [
    ['time_accepted', 'datetime'],
    ['ttl', 'int'],
  ],
  JobFinishedReceipt: [
    ['time_started', 'datetime'],
    ['time_took_us', 'int'],
    ['score_str', 'string'],
    ['block_numbers', 'int_list'],
  ],
};

/**
 * The exact text both parties sign for a receipt payload. Accepts untrusted input (a payload parsed from a JSONL
 * page); throws `ReceiptPayloadError` when the payload is not one pydantic would accept.
 *
 * @example
 * ```ts
 * receiptBlob(payload); // '{"executor_class": "always_on.gpu-24gb", "is_organic": true, "job_uuid": ...}'
 * ```
 */
export function receiptBlob(payload: ReceiptPayload | Readonly<Record<string, unknown>>): string {
  const source = payload as Readonly<Record<string, unknown>>;
  const type = source['receipt_type'];
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS_BY_TYPE, type)) {
    throw new ReceiptPayloadError(`unknown receipt_type ${JSON.stringify(type)}`);
  }
  const canonical: Record<string, JsonInput> = {};
  const problems: string[] = [];
  for (const [name, kind] of [...COMMON_FIELDS, ...FIELDS_BY_TYPE[type as ReceiptType]]) {
    const value = canonicalField(source[name], kind, name === 'block_numbers');
    if (value === undefined) problems.push(`${name}: expected ${kind}`);
    else canonical[name] = value;
  }
  if (problems.length > 0) throw new ReceiptPayloadError(`${type}: ${problems.join(', ')}`);
  return pythonJsonDumps(canonical, { sortKeys: true });
}

function canonicalField(value: unknown, kind: FieldKind, hasDefault: boolean): JsonInput | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    case 'int':
      return isInt(value) ? value : undefined;
    case 'int_list':
      if (value === undefined && hasDefault) return [];
      return Array.isArray(value) && value.every(isInt) ? value : undefined;
    case 'datetime':
      return typeof value === 'string' ? canonicalPydanticDatetime(value) : undefined;
  }
}

function isInt(value: unknown): value is number | bigint {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value));
}

/**
 * A datetime as pydantic v2 writes it in JSON mode: `YYYY-MM-DDTHH:MM:SS`, then `.ffffff` only when the
 * microseconds are not zero, then `Z` for UTC.
 *
 * @example
 * ```ts
 * pydanticDatetime(1718845323456); // '2024-06-20T01:02:03.456000Z'
 * pydanticDatetime(1718845323000); // '2024-06-20T01:02:03Z'
 * ```
 */
export function pydanticDatetime(epochMs: number, extraMicros = 0): string {
  const wholeMs = Math.floor(epochMs);
  const iso = new Date(wholeMs).toISOString(); // 2024-06-20T01:02:03.456Z
  const micros = (wholeMs - Math.floor(wholeMs / 1000) * 1000) * 1000 + extraMicros;
  const base = iso.slice(0, 19);
  return micros === 0 ? `${base}Z` : `${base}.${String(micros).padStart(6, '0')}Z`;
}

const ISO_DATETIME =
  /^(\d{4}-\d{2}-\d{2})[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Rewrites an ISO datetime the way pydantic would after parsing it: fraction truncated or padded to 6 digits and
 * dropped when zero, seconds filled in, `Z` for a zero offset, `±HH:MM` otherwise, no suffix for a naive value.
 * Text it does not recognise comes back unchanged (the signature check then fails, as it would upstream).
 */
export function canonicalPydanticDatetime(text: string): string {
  const match = ISO_DATETIME.exec(text);
  if (match === null) return text;
  const [, date, hours, minutes, seconds = '00', fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  const micros = fraction === undefined ? '' : fraction.slice(0, 6).padEnd(6, '0');
  const fractionText = micros === '' || /^0+$/.test(micros) ? '' : `.${micros}`;
  let offset = '';
  if (zulu !== undefined || (offsetHours === '00' && offsetMinutes === '00')) offset = 'Z';
  else if (sign !== undefined) offset = `${sign}${offsetHours}:${offsetMinutes}`;
  return `${date}T${hours}:${minutes}:${seconds}${fractionText}${offset}`;
}

/**
 * The validator's half: signs a payload's blob (`"0x" + hex`).
 *
 * @example
 * ```ts
 * const validator_signature = signReceiptPayload(validatorHotkey, payload);
 * ```
 */
export function signReceiptPayload(hotkey: Hotkey, payload: ReceiptPayload): string {
  return signBlob(hotkey, receiptBlob(payload));
}

/**
 * The miner's half: after checking the validator's signature (and that the hotkeys name itself and the connected
 * validator), it countersigns the same blob and the receipt is complete.
 *
 * @example
 * ```ts
 * const receipt = countersignReceipt(minerHotkey, payload, validatorSignature);
 * ```
 */
export function countersignReceipt<P extends ReceiptPayload>(
  miner: Hotkey,
  payload: P,
  validatorSignature: string,
): Receipt<P> {
  return { payload, validator_signature: validatorSignature, miner_signature: signReceiptPayload(miner, payload) };
}

/** True when `signature` is the validator's (payload.validator_hotkey) signature of the payload. Never throws. */
export function verifyValidatorReceiptSignature(payload: ReceiptPayload, signature: string): boolean {
  const blob = safeBlob(payload);
  return blob !== undefined && verify(payload.validator_hotkey, blob, signature);
}

export type ReceiptRefusalCode = 'receipt.malformed' | 'receipt.bad_validator_signature' | 'receipt.bad_miner_signature';

/**
 * Checks both signatures of a receipt against the hotkeys named in its payload (what the validator's receipt
 * transfer does for every JSONL line). Accepts untrusted input; never throws.
 *
 * @example
 * ```ts
 * const verdict = verifyReceipt(JSON.parse(line));
 * if (!verdict.ok) skipped.add(1, { reason: verdict.error.code });
 * ```
 */
export function verifyReceipt(receipt: unknown): Result<Receipt, { code: ReceiptRefusalCode; message: string }> {
  if (typeof receipt !== 'object' || receipt === null) {
    return err({ code: 'receipt.malformed', message: 'a receipt must be an object' });
  }
  const { payload, validator_signature, miner_signature } = receipt as Record<string, unknown>;
  if (typeof payload !== 'object' || payload === null) {
    return err({ code: 'receipt.malformed', message: 'receipt.payload must be an object' });
  }
  if (typeof validator_signature !== 'string' || typeof miner_signature !== 'string') {
    return err({ code: 'receipt.malformed', message: 'receipt signatures must be strings' });
  }
  let blob: string;
  try {
    blob = receiptBlob(payload as Record<string, unknown>);
  } catch (error) {
    return err({ code: 'receipt.malformed', message: (error as Error).message });
  }
  const typed = payload as ReceiptPayload;
  if (!verify(typed.validator_hotkey, blob, validator_signature)) {
    return err({ code: 'receipt.bad_validator_signature', message: `validator signature invalid for ${typed.job_uuid}` });
  }
  if (!verify(typed.miner_hotkey, blob, miner_signature)) {
    return err({ code: 'receipt.bad_miner_signature', message: `miner signature invalid for ${typed.job_uuid}` });
  }
  return ok(receipt as Receipt);
}

function safeBlob(payload: unknown): string | undefined {
  try {
    return receiptBlob(payload as Record<string, unknown>);
  } catch {
    return undefined;
  }
}
