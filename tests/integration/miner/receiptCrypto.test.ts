import { inlineReceiptCrypto, workerReceiptCrypto, type ReceiptCrypto } from '../../../src/actors/miner/receiptCrypto';
import { devHotkey, initCrypto, pydanticDatetime, signReceiptPayload, verifyReceipt, type Hotkey } from '../../../src/crypto';
import type { ReceiptPayload } from '../../../src/protocol';

let validator: Hotkey;
let miner: Hotkey;
beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('validator');
  miner = devHotkey('miner');
});

const payload = (): ReceiptPayload => ({
  job_uuid: 'a',
  miner_hotkey: devHotkey('miner').ss58,
  validator_hotkey: devHotkey('validator').ss58,
  timestamp: pydanticDatetime(1_700_000_000_000),
  receipt_type: 'JobStartedReceipt',
  executor_class: 'always_on.test',
  is_organic: true,
  ttl: 7,
});

describe.each([
  ['a worker thread', () => workerReceiptCrypto(miner, 1)],
  ['the event loop', () => Promise.resolve(inlineReceiptCrypto(miner))],
])('receipt crypto on %s', (_where, make: () => Promise<ReceiptCrypto>) => {
  let crypto: ReceiptCrypto;
  beforeAll(async () => {
    crypto = await make();
  });
  afterAll(() => crypto.close());

  it('verifies the validator signature and countersigns so that the receipt verifies', async () => {
    const p = payload();
    const signature = signReceiptPayload(validator, p);
    expect(await crypto.verifyValidator(p, signature)).toBe(true);
    const minerSignature = await crypto.countersign(p);
    expect(verifyReceipt({ payload: p, validator_signature: signature, miner_signature: minerSignature }).ok).toBe(true);
  });

  it('refuses a signature by another key, and keeps answering many requests at once', async () => {
    const p = payload();
    const forged = signReceiptPayload(miner, p);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => crypto.verifyValidator(p, i % 2 === 0 ? forged : signReceiptPayload(validator, p as never))));
    expect(answers).toEqual([false, true, false, true, false, true, false, true]);
  });
});
