/**
 * Excuse receipts (spec 3.7, upstream `job_excuses.filter_valid_excuse_receipts`): a miner that declines a job as
 * `busy` attaches the JobStarted receipts of the jobs keeping its executors busy. Each one counts only when it is a
 * JobStarted receipt for this miner, another job and the same class, issued by a validator we trust (active with
 * enough stake, or ourselves), issued before our request and not expired at it, with a valid validator signature,
 * and not a duplicate. When the valid ones cover every executor the miner announced for the class, the decline is
 * excused: no incident is held against the miner.
 *
 * Pure: the metagraph is read through the given lookup, and time is the check time passed in.
 */
import { canonicalPydanticDatetime, verifyValidatorReceiptSignature } from '../../crypto';
import type { ExecutorClass, Receipt } from '../../protocol';
import type { MetagraphValidator } from '../../metagraph';
import { EXCUSE_EXPIRY_LEEWAY_MS, EXCUSE_MAX_RECEIPTS_CHECKED, EXCUSE_MINIMUM_VALIDATOR_STAKE } from './defaults';

/** Why an excuse receipt did not count (the first failed rule). */
export type ExcuseRefusal =
  | 'not_job_started'
  | 'other_miner'
  | 'same_job'
  | 'other_class'
  | 'validator_not_allowed'
  | 'timestamp_too_new'
  | 'expired'
  | 'bad_timestamp'
  | 'bad_signature'
  | 'duplicate'
  | 'over_limit';

/** What the rules need to know about the declined job. */
export interface ExcuseCheck {
  /** The receipts the decline carried. */
  readonly receipts: readonly Receipt[];
  /** Hotkey of the miner that declined. */
  readonly minerHotkey: string;
  /** The declined job. */
  readonly jobUuid: string;
  readonly executorClass: ExecutorClass;
  /** This validator's hotkey (always trusted). */
  readonly selfHotkey: string;
  /** When our request was made (the JobStarted receipt's time), ms since the epoch. */
  readonly checkTimeMs: number;
  /** Validator lookup in the current metagraph. */
  readonly validator: (hotkey: string) => Pick<MetagraphValidator, 'active' | 'stake'> | undefined;
  /** Hotkeys trusted whatever their stake (upstream's BAC validator). */
  readonly alwaysTrusted?: ReadonlySet<string>;
  /** @default EXCUSE_MINIMUM_VALIDATOR_STAKE */
  readonly minimumStake?: number;
  /** @default EXCUSE_EXPIRY_LEEWAY_MS */
  readonly expiryLeewayMs?: number;
  /** @default EXCUSE_MAX_RECEIPTS_CHECKED */
  readonly maxReceipts?: number;
}

export interface ExcuseFilterResult {
  readonly valid: readonly Receipt[];
  /** One entry per receipt that did not count, in order. */
  readonly refused: ReadonlyArray<{ readonly index: number; readonly jobUuid: string; readonly why: ExcuseRefusal }>;
}

/**
 * A receipt timestamp (pydantic ISO text) in ms since the epoch; a naive one is read as UTC, as the validator's
 * database does. `undefined` when it is not a datetime.
 */
export function receiptTimeMs(text: string): number | undefined {
  const canonical = canonicalPydanticDatetime(text);
  const withZone = /(?:Z|[+-]\d{2}:\d{2})$/.test(canonical) ? canonical : `${canonical}Z`;
  const ms = Date.parse(withZone);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The excuse receipts that count, with the reason for each that does not.
 *
 * @example
 * ```ts
 * const { valid } = filterValidExcuseReceipts({ receipts: decline.receipts, minerHotkey, jobUuid, executorClass,
 *   selfHotkey: validator.ss58, checkTimeMs: startedAtMs, validator: (h) => metagraph.validator(h) });
 * const excused = isExcused(valid.length, manifests.get(minerHotkey)?.manifest[executorClass]);
 * ```
 */
export function filterValidExcuseReceipts(check: ExcuseCheck): ExcuseFilterResult {
  const minimumStake = check.minimumStake ?? EXCUSE_MINIMUM_VALIDATOR_STAKE;
  const leewayMs = check.expiryLeewayMs ?? EXCUSE_EXPIRY_LEEWAY_MS;
  const maxReceipts = check.maxReceipts ?? EXCUSE_MAX_RECEIPTS_CHECKED;
  const allowed = (hotkey: string): boolean => {
    if (hotkey === check.selfHotkey || check.alwaysTrusted?.has(hotkey) === true) return true;
    const v = check.validator(hotkey);
    return v !== undefined && v.active && v.stake >= minimumStake;
  };
  // Upstream meant to reject duplicates (PR #766) but never reads its `seen` set; we do: one busy executor is one
  // job, however many receipts the miner shows for it.
  const seen = new Set<string>();
  const valid: Receipt[] = [];
  const refused: Array<{ index: number; jobUuid: string; why: ExcuseRefusal }> = [];
  check.receipts.forEach((receipt, index) => {
    const payload = receipt.payload;
    const why = index >= maxReceipts ? 'over_limit' : refusalOf(receipt, check, allowed, leewayMs, seen);
    if (why === undefined) {
      seen.add(payload.job_uuid);
      valid.push(receipt);
    } else {
      refused.push({ index, jobUuid: payload.job_uuid, why });
    }
  });
  return { valid, refused };
}

function refusalOf(
  receipt: Receipt,
  check: ExcuseCheck,
  allowed: (hotkey: string) => boolean,
  leewayMs: number,
  seen: ReadonlySet<string>,
): ExcuseRefusal | undefined {
  const payload = receipt.payload;
  if (payload.receipt_type !== 'JobStartedReceipt') return 'not_job_started';
  if (payload.miner_hotkey !== check.minerHotkey) return 'other_miner';
  if (payload.job_uuid === check.jobUuid) return 'same_job';
  if (payload.executor_class !== check.executorClass) return 'other_class';
  if (!allowed(payload.validator_hotkey)) return 'validator_not_allowed';
  const issuedAtMs = receiptTimeMs(payload.timestamp);
  if (issuedAtMs === undefined) return 'bad_timestamp';
  if (issuedAtMs >= check.checkTimeMs) return 'timestamp_too_new';
  if (check.checkTimeMs >= issuedAtMs + payload.ttl * 1_000 + leewayMs) return 'expired';
  if (seen.has(payload.job_uuid)) return 'duplicate';
  // Last: the only costly rule.
  if (!verifyValidatorReceiptSignature(payload, receipt.validator_signature)) return 'bad_signature';
  return undefined;
}

/**
 * Whether a busy decline is excused: the valid excuses cover the executor count the miner announced for the class.
 * As upstream, a miner with no known manifest for the class expects 0 executors, so any busy decline is excused (such
 * a miner is not routed to in the first place).
 *
 * @example
 * ```ts
 * isExcused(2, 2); // true
 * isExcused(1, 2); // false
 * ```
 */
export function isExcused(validExcuses: number, announcedExecutors: number | undefined): boolean {
  return validExcuses >= (announcedExecutors ?? 0);
}
