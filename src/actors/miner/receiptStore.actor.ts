/**
 * The receipt store actor: the single writer of the miner's receipts, a FIFO of work. Each submitted receipt is
 * checked (hotkeys), its signature verified and countersigned by `ReceiptCrypto` (worker threads: off the event loop),
 * then stored IN SUBMISSION ORDER; an excuse query is queued like a receipt and answered when it reaches the head.
 *
 * The FIFO order is the ordering guarantee the miner relies on: a job submits its JobStarted receipt BEFORE it asks
 * for a reservation, and an excuse query is answered only after everything submitted earlier is settled (stored or
 * refused), so a busy decline always sees the receipts of every job that took a slot before it. Signatures of queued
 * receipts are checked in parallel (crypto is pipelined); only storing and answering follow the order.
 */
import { fromCallback, type AnyActorRef, type EventObject } from 'xstate';
import { FLUSH_EVENT, receiptStoreMachine, withFastForward } from '../../machines/receiptStore.machine';
import type { Hotkey } from '../../crypto';
import type { Receipt, ReceiptPayload } from '../../protocol';
import type { Logger } from '../../telemetry/logger';
import { errorCode } from '../../util/errors';
import type { MinerMetrics } from './metrics';
import type { ReceiptCrypto } from './receiptCrypto';
import type { ExcuseQuery, ReceiptStore } from './receiptStore';

/** Requests the receipt store accepts. */
export type ReceiptStoreEvent =
  /** Verify the validator's signature, countersign, store. The answer (`receipts.stored`) goes to `replyTo`. */
  | {
      readonly type: 'receipts.submit';
      readonly payload: ReceiptPayload;
      readonly validatorSignature: string;
      /** The validator of the connection it came on (upstream: the URL hotkey); the payload must name it. */
      readonly expectedValidatorHotkey: string;
      readonly replyTo?: AnyActorRef;
    }
  /** Find excuse receipts, after everything submitted earlier is settled. Answered with `receipts.excuses`. */
  | { readonly type: 'receipts.find_excuses'; readonly query: ExcuseQuery; readonly replyTo: AnyActorRef };

/** Why a submitted receipt was not stored. */
export type ReceiptRefusal =
  | 'wrong_miner_hotkey'
  | 'wrong_validator_hotkey'
  | 'bad_signature'
  | 'duplicate'
  | 'queue_full'
  | 'crypto_failed'
  | 'write_failed';

/** Replies of the receipt store (each receiver lists the ones it handles in its own event union). */
export type ReceiptStoreReply =
  | {
      readonly type: 'receipts.stored';
      readonly jobUuid: string;
      readonly receiptType: ReceiptPayload['receipt_type'];
      /** The stored receipt, or why there is none. */
      readonly result: { readonly ok: true; readonly receipt: Receipt } | { readonly ok: false; readonly reason: ReceiptRefusal };
    }
  | { readonly type: 'receipts.excuses'; readonly jobUuid: string; readonly receipts: readonly Receipt[] };

export interface ReceiptStoreActorInput {
  readonly store: ReceiptStore;
  /** Its SS58 is the miner hotkey every payload must name (`crypto` countersigns with it). */
  readonly miner: Pick<Hotkey, 'ss58'>;
  readonly crypto: ReceiptCrypto;
  readonly metrics: MinerMetrics;
  readonly logger: Logger;
  readonly queueCapacity: number;
}

/**
 * The hotkey checks of upstream's `verify_receipt_payload`, before the (costly) signature check: the payload must
 * name this miner and the validator of the connection.
 *
 * @example
 * ```ts
 * receiptHotkeyProblem(payload, { minerHotkey: me.ss58, validatorHotkey: urlHotkey }); // undefined when both match
 * ```
 */
export function receiptHotkeyProblem(
  payload: Pick<ReceiptPayload, 'miner_hotkey' | 'validator_hotkey'>,
  expected: { readonly minerHotkey: string; readonly validatorHotkey: string },
): 'wrong_miner_hotkey' | 'wrong_validator_hotkey' | undefined {
  if (payload.miner_hotkey !== expected.minerHotkey) return 'wrong_miner_hotkey';
  if (payload.validator_hotkey !== expected.validatorHotkey) return 'wrong_validator_hotkey';
  return undefined;
}

type Checked = { readonly ok: true; readonly receipt: Receipt } | { readonly ok: false; readonly reason: ReceiptRefusal };

type Task =
  | {
      readonly kind: 'submit';
      readonly event: Extract<ReceiptStoreEvent, { type: 'receipts.submit' }>;
      /** Hotkeys, signature and countersignature, started when the receipt was queued. */
      readonly checked: Promise<Checked>;
    }
  | { readonly kind: 'excuses'; readonly event: Extract<ReceiptStoreEvent, { type: 'receipts.find_excuses' }> };

/**
 * The worker of the receipt store (see the module comment): the FIFO itself. `receipts.flush` asks it to report
 * `receipts.idle` to its parent once the queue is empty. Stopping it drops the queue (counted as dropped); the store
 * and the crypto are closed by their owner.
 */
export const receiptWorkerLogic = fromCallback<ReceiptStoreEvent | typeof FLUSH_EVENT, ReceiptStoreActorInput>(
  ({ input, receive, sendBack }) => {
    const { store, miner, crypto, metrics, logger, queueCapacity } = input;
    const queue: Task[] = [];
    let head = 0;
    let pumping = false;
    let stopped = false;
    let flushing = false;

    const reply = (to: AnyActorRef | undefined, message: ReceiptStoreReply): void => {
      if (to !== undefined) to.send(message);
    };
    const answer = (event: Extract<ReceiptStoreEvent, { type: 'receipts.submit' }>, result: Checked): void => {
      const receiptType = event.payload.receipt_type;
      if (result.ok) metrics.receiptsStored.add(1, { receipt_type: receiptType });
      else {
        metrics.receiptsRefused.add(1, { receipt_type: receiptType, reason: result.reason });
        if (result.reason !== 'duplicate') {
          logger.warn('receipt not stored', { jobUuid: event.payload.job_uuid, receiptType, reason: result.reason });
        }
      }
      reply(event.replyTo, { type: 'receipts.stored', jobUuid: event.payload.job_uuid, receiptType, result });
    };

    const check = async (event: Extract<ReceiptStoreEvent, { type: 'receipts.submit' }>): Promise<Checked> => {
      const problem = receiptHotkeyProblem(event.payload, { minerHotkey: miner.ss58, validatorHotkey: event.expectedValidatorHotkey });
      if (problem !== undefined) return { ok: false, reason: problem };
      try {
        if (!(await crypto.verifyValidator(event.payload, event.validatorSignature))) return { ok: false, reason: 'bad_signature' };
        const minerSignature = await crypto.countersign(event.payload);
        return { ok: true, receipt: { payload: event.payload, validator_signature: event.validatorSignature, miner_signature: minerSignature } };
      } catch (error) {
        logger.error('receipt crypto failed', { error: (error as Error).message, code: errorCode(error) });
        return { ok: false, reason: 'crypto_failed' };
      }
    };

    // Stores and answers in order. Runs outside XState's call stack: nothing may throw out of it (it would be an
    // unhandled rejection), so every failure becomes an answer.
    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      while (!stopped && head < queue.length) {
        const task = queue[head]!;
        if (task.kind === 'excuses') {
          let receipts: readonly Receipt[] = [];
          try {
            receipts = store.excuses(task.event.query);
          } catch (error) {
            logger.error('excuse query failed', { error: (error as Error).message });
          }
          reply(task.event.replyTo, { type: 'receipts.excuses', jobUuid: task.event.query.excludeJobUuid, receipts });
        } else {
          let result = await task.checked;
          if (stopped) break;
          if (result.ok) {
            try {
              if (store.append(result.receipt) === 'duplicate') result = { ok: false, reason: 'duplicate' };
            } catch (error) {
              logger.error('receipt store write failed', { error: (error as Error).message, code: errorCode(error) });
              result = { ok: false, reason: 'write_failed' };
            }
          }
          answer(task.event, result);
        }
        head += 1;
        metrics.receiptQueueDepth.add(-1);
        // Compact now and then instead of shifting on every step (O(1) amortised).
        if (head > 1024 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
      }
      pumping = false;
      if (flushing && !stopped && head >= queue.length) {
        flushing = false;
        sendBack({ type: 'receipts.idle' });
      }
    };
    const kick = (): void => {
      void pump().catch((error: unknown) => logger.error('receipt store pump failed', { error: String(error) }));
    };

    receive((event) => {
      if (event.type === 'receipts.flush') {
        flushing = true;
        kick();
        return;
      }
      if (event.type !== 'receipts.submit' && event.type !== 'receipts.find_excuses') return;
      if (queue.length - head >= queueCapacity) {
        metrics.droppedMessages.add(1, { queue: 'receipt_queue' });
        if (event.type === 'receipts.submit') answer(event, { ok: false, reason: 'queue_full' });
        else reply(event.replyTo, { type: 'receipts.excuses', jobUuid: event.query.excludeJobUuid, receipts: [] });
        return;
      }
      queue.push(event.type === 'receipts.submit' ? { kind: 'submit', event, checked: check(event) } : { kind: 'excuses', event });
      metrics.receiptQueueDepth.add(1);
      kick();
    });

    return () => {
      stopped = true;
      flushing = false;
      const left = queue.length - head;
      if (left > 0) {
        metrics.droppedMessages.add(left, { queue: 'receipt_queue' });
        metrics.receiptQueueDepth.add(-left);
        logger.warn('receipt store stopped with work queued', { dropped: left });
      }
    };
  },
);

/**
 * The receipt store actor: {@link receiptStoreMachine} (with its fast path) around {@link receiptWorkerLogic}. Spawn it once per miner
 * (systemId `miner.receiptStore`) with {@link ReceiptStoreActorInput}.
 *
 * @example
 * ```ts
 * { id: 'receiptStore', systemId: 'miner.receiptStore', logic: receiptStoreLogic, input: { store, miner, crypto, metrics,
 *   logger, queueCapacity }, restart: 'permanent', shutdownMs: 10_000 }
 * store.send({ type: 'receipts.submit', payload, validatorSignature, expectedValidatorHotkey, replyTo: self });
 * ```
 */
export const receiptStoreLogic = withFastForward(
  receiptStoreMachine.provide({
    actors: { worker: receiptWorkerLogic as unknown as ReturnType<typeof fromCallback<EventObject, ReceiptStoreActorInput>> },
  }),
);
