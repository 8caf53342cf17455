import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createActor, type AnyActorRef, type EventObject } from 'xstate';
import { createMinerMetrics } from '../../../src/actors/miner/metrics';
import { pageAt } from '../../../src/actors/miner/receiptPages';
import { ReceiptStore } from '../../../src/actors/miner/receiptStore';
import { inlineReceiptCrypto } from '../../../src/actors/miner/receiptCrypto';
import { receiptStoreLogic } from '../../../src/actors/miner/receiptStore.actor';
import { devHotkey, initCrypto, pydanticDatetime, signReceiptPayload, verifyReceipt, type Hotkey } from '../../../src/crypto';
import { countersignReceipt, type JobStartedReceiptPayload } from '../../../src/crypto/receipts';
import { Receipt, type Receipt as ReceiptMessage } from '../../../src/protocol';
import { silentLogger } from '../../../src/telemetry/logger';
import { manualClock } from '../../../src/util/clock';
import { flush, recordingActor } from './fakes';

let validator: Hotkey;
let other: Hotkey;
let miner: Hotkey;
let dir: string;

beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('validator');
  other = devHotkey('validator-2');
  miner = devHotkey('miner');
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'horde-receipts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;

function started(jobUuid: string, atMs: number, overrides: Partial<JobStartedReceiptPayload> = {}): JobStartedReceiptPayload {
  return {
    job_uuid: jobUuid,
    miner_hotkey: miner.ss58,
    validator_hotkey: validator.ss58,
    timestamp: pydanticDatetime(atMs),
    receipt_type: 'JobStartedReceipt',
    executor_class: 'always_on.test',
    is_organic: true,
    ttl: 30,
    ...overrides,
  };
}

function complete(payload: JobStartedReceiptPayload, signer = validator): ReceiptMessage {
  return countersignReceipt(miner, payload, signReceiptPayload(signer, payload)) as unknown as ReceiptMessage;
}

describe('receipt store (pages + SQLite index)', () => {
  it("appends each receipt as one JSONL line, exactly upstream's model_dump_json, on the page of the time it is stored", () => {
    const clock = manualClock(T0);
    const store = ReceiptStore.open({ dir, clock });
    const a = complete(started('a', T0));
    expect(store.append(a)).toBe('stored');
    clock.advance(300_000);
    const b = complete(started('b', T0));
    store.append(b);
    store.close();
    expect(readFileSync(join(dir, `${pageAt(T0)}.jsonl`), 'utf8')).toBe(`${Receipt.toJson(a)}\n`);
    expect(readFileSync(join(dir, `${pageAt(T0) + 1}.jsonl`), 'utf8')).toBe(`${Receipt.toJson(b)}\n`);
  });

  it('stores a receipt once per job and type', () => {
    const store = ReceiptStore.open({ dir, clock: manualClock(T0) });
    const a = complete(started('a', T0));
    expect(store.append(a)).toBe('stored');
    expect(store.append(a)).toBe('duplicate');
    expect(store.count()).toBe(1);
    expect(store.servableSize(pageAt(T0))).toBe(Buffer.byteLength(`${Receipt.toJson(a)}\n`));
    store.close();
  });

  it('finds as excuses only organic JobStarted receipts of the class, of other jobs, valid at the asked time', () => {
    const store = ReceiptStore.open({ dir, clock: manualClock(T0) });
    const valid = complete(started('valid', T0 - 10_000, { validator_hotkey: other.ss58 }), other);
    store.append(valid);
    store.append(complete(started('expired', T0 - 31_000)));
    store.append(complete(started('future', T0 + 1_000)));
    store.append(complete(started('synthetic', T0 - 1_000, { is_organic: false })));
    store.append(complete(started('gpu', T0 - 1_000, { executor_class: 'always_on.gpu-24gb' })));
    store.append(complete(started('self', T0 - 1_000)));
    const excuses = store.excuses({ executorClass: 'always_on.test', atMs: T0, excludeJobUuid: 'self', limit: 10 });
    expect(excuses).toEqual([valid]);
    expect(verifyReceipt(excuses[0]).ok).toBe(true);
    expect(store.excuses({ executorClass: 'always_on.test', atMs: T0, excludeJobUuid: 'x', limit: 1 })).toHaveLength(1);
    store.close();
  });

  it('keeps its receipts across a restart', () => {
    const first = ReceiptStore.open({ dir, clock: manualClock(T0) });
    first.append(complete(started('a', T0)));
    first.close();
    const second = ReceiptStore.open({ dir, clock: manualClock(T0 + 1_000) });
    expect(second.count()).toBe(1);
    expect(second.excuses({ executorClass: 'always_on.test', atMs: T0 + 1_000, excludeJobUuid: 'x', limit: 10 })).toHaveLength(1);
    second.append(complete(started('b', T0)));
    expect(readFileSync(join(dir, `${pageAt(T0)}.jsonl`), 'utf8').trim().split('\n')).toHaveLength(2);
    second.close();
  });
});

describe('receipt store actor', () => {
  const actors: AnyActorRef[] = [];
  afterEach(() => {
    for (const actor of actors.splice(0)) actor.stop();
  });

  function startActor(queueCapacity = 100) {
    const store = ReceiptStore.open({ dir, clock: manualClock(T0) });
    const actor = createActor(receiptStoreLogic, {
      input: { store, miner, crypto: inlineReceiptCrypto(miner), metrics: createMinerMetrics(), logger: silentLogger, queueCapacity },
    }).start();
    const reply = recordingActor();
    actors.push(actor, reply.ref);
    const submit = (payload: JobStartedReceiptPayload, signer = validator, expected = validator.ss58) =>
      actor.send({
        type: 'receipts.submit',
        payload: payload as never,
        validatorSignature: signReceiptPayload(signer, payload),
        expectedValidatorHotkey: expected,
        replyTo: reply.ref,
      });
    const results = () =>
      reply.events
        .filter((e: EventObject) => e.type === 'receipts.stored')
        .map((e) => (e as unknown as { result: { ok: boolean; reason?: string } }).result);
    return { store, actor, reply, submit, results };
  }

  it('verifies, countersigns and stores a receipt; the stored receipt carries both valid signatures', async () => {
    const t = startActor();
    t.submit(started('a', T0));
    await flush(10);
    const [result] = t.results() as Array<{ ok: true; receipt: ReceiptMessage }>;
    expect(result?.ok).toBe(true);
    expect(verifyReceipt(result!.receipt).ok).toBe(true);
    expect(t.store.count()).toBe(1);
    t.actor.stop();
    t.store.close();
  });

  it.each([
    ['a payload naming another miner', { miner_hotkey: '5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY' }, undefined, undefined, 'wrong_miner_hotkey'],
    ['a payload naming another validator than the connection', {}, undefined, 'otherHotkey', 'wrong_validator_hotkey'],
    ['a forged validator signature', {}, 'other', undefined, 'bad_signature'],
  ])('refuses %s', async (_what, overrides, signer, expected, reason) => {
    const t = startActor();
    t.submit(started('a', T0, overrides), signer === 'other' ? other : validator, expected === 'otherHotkey' ? other.ss58 : validator.ss58);
    await flush(10);
    expect(t.results()).toEqual([{ ok: false, reason }]);
    expect(t.store.count()).toBe(0);
    t.actor.stop();
    t.store.close();
  });

  it('answers an excuse query only after every receipt submitted before it is stored', async () => {
    const t = startActor();
    t.submit(started('a', T0));
    t.submit(started('b', T0));
    t.actor.send({
      type: 'receipts.find_excuses',
      query: { executorClass: 'always_on.test', atMs: T0 + 1, excludeJobUuid: 'c', limit: 10 },
      replyTo: t.reply.ref,
    });
    await flush(20);
    const types = t.reply.events.map((e) => e.type);
    expect(types).toEqual(['receipts.stored', 'receipts.stored', 'receipts.excuses']);
    expect((t.reply.events[2] as unknown as { receipts: unknown[] }).receipts).toHaveLength(2);
    t.actor.stop();
    t.store.close();
  });

  it('refuses receipts past its queue capacity', async () => {
    const t = startActor(1);
    t.submit(started('a', T0));
    t.submit(started('b', T0));
    await flush(10);
    expect(t.results()).toEqual([{ ok: false, reason: 'queue_full' }, expect.objectContaining({ ok: true })]);
    t.actor.stop();
    t.store.close();
  });

  it('finishes its queue before it stops on supervisor.shutdown', async () => {
    const t = startActor();
    t.submit(started('a', T0));
    t.actor.send({ type: 'supervisor.shutdown' } as never);
    expect(t.actor.getSnapshot().status).toBe('active');
    await flush(10);
    expect(t.store.count()).toBe(1);
    expect(t.actor.getSnapshot().status).toBe('done');
    t.store.close();
  });
});
