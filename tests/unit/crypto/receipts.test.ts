import {
  canonicalPydanticDatetime,
  countersignReceipt,
  devHotkey,
  hotkeyFromSeed,
  initCrypto,
  pydanticDatetime,
  receiptBlob,
  ReceiptPayloadError,
  signReceiptPayload,
  verifyReceipt,
  verifyValidatorReceiptSignature,
  type JobFinishedReceiptPayload,
  type JobStartedReceiptPayload,
  type Hotkey,
} from '../../../src/crypto';
import { UPSTREAM_MINER_HOTKEY_FILE, UPSTREAM_VALIDATOR_HOTKEY_FILE } from './vectors';

const V = UPSTREAM_VALIDATOR_HOTKEY_FILE.ss58Address;
const M = UPSTREAM_MINER_HOTKEY_FILE.ss58Address;
const JOB = '3f1c2a8e-5b7d-4e0f-9a6b-1c2d3e4f5a6b';

let validator: Hotkey;
let miner: Hotkey;
beforeAll(async () => {
  await initCrypto();
  validator = hotkeyFromSeed(UPSTREAM_VALIDATOR_HOTKEY_FILE.secretSeed);
  miner = hotkeyFromSeed(UPSTREAM_MINER_HOTKEY_FILE.secretSeed);
});

const started: JobStartedReceiptPayload = {
  job_uuid: JOB,
  miner_hotkey: M,
  validator_hotkey: V,
  timestamp: '2025-01-02T03:04:05.123456+00:00',
  receipt_type: 'JobStartedReceipt',
  executor_class: 'always_on.gpu-24gb',
  is_organic: true,
  ttl: 7,
};

// Expected blobs: Python `payload.blob_for_signing()` on upstream's receipt models (pydantic 2.13).
describe('receiptBlob', () => {
  it('matches upstream for a JobStartedReceipt (sorted keys, canonical datetime)', () => {
    expect(receiptBlob(started)).toBe(
      `{"executor_class": "always_on.gpu-24gb", "is_organic": true, "job_uuid": "${JOB}", "miner_hotkey": "${M}", "receipt_type": "JobStartedReceipt", "timestamp": "2025-01-02T03:04:05.123456Z", "ttl": 7, "validator_hotkey": "${V}"}`,
    );
  });

  it('matches upstream for a JobAcceptedReceipt (fraction padded to 6 digits)', () => {
    const payload = {
      job_uuid: JOB,
      miner_hotkey: M,
      validator_hotkey: V,
      timestamp: '2025-01-02T03:04:06Z',
      receipt_type: 'JobAcceptedReceipt',
      time_accepted: '2025-01-02T03:04:06.5Z',
      ttl: 400,
    } as const;
    expect(receiptBlob(payload)).toBe(
      `{"job_uuid": "${JOB}", "miner_hotkey": "${M}", "receipt_type": "JobAcceptedReceipt", "time_accepted": "2025-01-02T03:04:06.500000Z", "timestamp": "2025-01-02T03:04:06Z", "ttl": 400, "validator_hotkey": "${V}"}`,
    );
  });

  it('matches upstream for a JobFinishedReceipt: extra fields dropped, block_numbers defaulted', () => {
    const payload = {
      job_uuid: JOB,
      miner_hotkey: M,
      validator_hotkey: V,
      timestamp: '2025-01-02T03:10:00Z',
      receipt_type: 'JobFinishedReceipt',
      time_started: '2025-01-02T03:04:06.000000Z',
      time_took_us: 353000000,
      score_str: '1.000000',
      extra: 'dropped',
    };
    expect(receiptBlob(payload)).toBe(
      `{"block_numbers": [], "job_uuid": "${JOB}", "miner_hotkey": "${M}", "receipt_type": "JobFinishedReceipt", "score_str": "1.000000", "time_started": "2025-01-02T03:04:06Z", "time_took_us": 353000000, "timestamp": "2025-01-02T03:10:00Z", "validator_hotkey": "${V}"}`,
    );
  });

  it('refuses an unknown receipt type or a missing field, naming them', () => {
    expect(() => receiptBlob({ ...started, receipt_type: 'Nope' })).toThrow(ReceiptPayloadError);
    const { ttl: _ttl, ...withoutTtl } = started;
    expect(() => receiptBlob(withoutTtl)).toThrow(/ttl: expected int/);
  });
});

describe('pydantic datetimes', () => {
  it.each<[string, string]>([
    ['2024-06-20T01:02:03.456789Z', '2024-06-20T01:02:03.456789Z'],
    ['2024-06-20T01:02:03.4567891Z', '2024-06-20T01:02:03.456789Z'],
    ['2024-06-20T01:02:03.45Z', '2024-06-20T01:02:03.450000Z'],
    ['2024-06-20T01:02:03.000000+00:00', '2024-06-20T01:02:03Z'],
    ['2024-06-20 01:02:03Z', '2024-06-20T01:02:03Z'],
    ['2024-06-20T01:02:03+02:00', '2024-06-20T01:02:03+02:00'],
    ['2024-06-20T01:02:03', '2024-06-20T01:02:03'],
    ['2024-06-20T01:02:03-00:00', '2024-06-20T01:02:03Z'],
    ['2024-06-20T01:02Z', '2024-06-20T01:02:00Z'],
    ['2024-06-20t01:02:03z', '2024-06-20T01:02:03Z'],
    ['2024-06-20T01:02:03.1+0530', '2024-06-20T01:02:03.100000+05:30'],
    ['not a date', 'not a date'],
  ])('pydantic writes %s as %s', (input, expected) => {
    expect(canonicalPydanticDatetime(input)).toBe(expected);
  });

  it('formats epoch milliseconds the way pydantic dumps an aware UTC datetime', () => {
    expect(pydanticDatetime(1718845323456)).toBe('2024-06-20T01:02:03.456000Z');
    expect(pydanticDatetime(1718845323000)).toBe('2024-06-20T01:02:03Z');
    expect(pydanticDatetime(1718845323456, 789)).toBe('2024-06-20T01:02:03.456789Z');
  });
});

describe('signing and verifying receipts', () => {
  it('verifies a receipt signed by the validator and countersigned by the miner', () => {
    const validatorSignature = signReceiptPayload(validator, started);
    expect(validatorSignature).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verifyValidatorReceiptSignature(started, validatorSignature)).toBe(true);
    const receipt = countersignReceipt(miner, started, validatorSignature);
    expect(verifyReceipt(receipt)).toEqual({ ok: true, value: receipt });
  });

  it('verifies a receipt whose JSON spells a datetime differently from the signer', () => {
    const receipt = countersignReceipt(miner, started, signReceiptPayload(validator, started));
    const respelled = { ...receipt, payload: { ...receipt.payload, timestamp: '2025-01-02T03:04:05.123456Z' } };
    expect(verifyReceipt(JSON.parse(JSON.stringify(respelled)))).toMatchObject({ ok: true });
  });

  it('refuses a receipt whose payload was altered after signing', () => {
    const finished: JobFinishedReceiptPayload = {
      job_uuid: JOB,
      miner_hotkey: M,
      validator_hotkey: V,
      timestamp: pydanticDatetime(1735787400000),
      receipt_type: 'JobFinishedReceipt',
      time_started: pydanticDatetime(1735787046000),
      time_took_us: 353_000_000,
      score_str: '0.000000',
      block_numbers: [100, 101],
    };
    const receipt = countersignReceipt(miner, finished, signReceiptPayload(validator, finished));
    for (const payload of [
      { ...finished, score_str: '1.000000' },
      { ...finished, block_numbers: [100, 101, 102] },
      { ...finished, time_took_us: 1 },
    ]) {
      expect(verifyReceipt({ ...receipt, payload })).toMatchObject({ ok: false, error: { code: 'receipt.bad_validator_signature' } });
    }
  });

  it('refuses a receipt signed by keys other than the payload names', () => {
    const other = devHotkey('other');
    const byOtherValidator = countersignReceipt(miner, started, signReceiptPayload(other, started));
    expect(verifyReceipt(byOtherValidator)).toMatchObject({ ok: false, error: { code: 'receipt.bad_validator_signature' } });
    const byOtherMiner = countersignReceipt(other, started, signReceiptPayload(validator, started));
    expect(verifyReceipt(byOtherMiner)).toMatchObject({ ok: false, error: { code: 'receipt.bad_miner_signature' } });
    const swapped = { payload: started, validator_signature: byOtherMiner.miner_signature, miner_signature: byOtherMiner.validator_signature };
    expect(verifyReceipt(swapped).ok).toBe(false);
  });

  it('refuses malformed receipts without throwing', () => {
    for (const bad of [null, 'x', {}, { payload: started }, { payload: { receipt_type: 'X' }, validator_signature: '0x', miner_signature: '0x' }]) {
      expect(verifyReceipt(bad)).toMatchObject({ ok: false, error: { code: 'receipt.malformed' } });
    }
    expect(verifyValidatorReceiptSignature({ ...started, receipt_type: 'X' } as never, '0x00')).toBe(false);
  });
});
