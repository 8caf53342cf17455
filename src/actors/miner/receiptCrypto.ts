/**
 * Receipt signatures off the event loop. Verifying a validator's signature and countersigning cost ~12 ms of sr25519
 * per receipt on a loaded 2-core box (the polkadot sr25519 here is pure JavaScript); done on the miner's event loop,
 * a burst of receipts would hold up every WebSocket frame behind it. `workerReceiptCrypto` runs them on worker
 * threads; `inlineReceiptCrypto` runs them on the event loop one at a time, yielding between operations (the
 * fallback, and what unit tests use).
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { keyFileOf, signReceiptPayload, verifyValidatorReceiptSignature, type Hotkey } from '../../crypto';
import type { ReceiptPayload as CryptoReceiptPayload } from '../../crypto/receipts';
import type { ReceiptPayload } from '../../protocol';
import { QuietBatch } from '../../transport/quietBatch';
import { toError } from '../../util/errors';
import { RECEIPT_CRYPTO_NICE } from './defaults';
import { ReceiptCryptoError } from './errors';

/** Receipt signature work, wherever it runs. */
export interface ReceiptCrypto {
  readonly mode: 'worker' | 'inline';
  /** True when `signature` is the payload validator's signature of the payload. Never rejects on a bad signature. */
  verifyValidator(payload: ReceiptPayload, signature: string): Promise<boolean>;
  /** The miner's countersignature of the payload (`"0x" + hex`). */
  countersign(payload: ReceiptPayload): Promise<string>;
  close(): Promise<void>;
}

/** @internal worker protocol: the worker gets arrays of these and answers each with a {@link CryptoReply}. */
export type CryptoRequest =
  | { readonly id: number; readonly op: 'verify'; readonly payload: ReceiptPayload; readonly signature: string }
  | { readonly id: number; readonly op: 'sign'; readonly payload: ReceiptPayload };
/** @internal worker protocol */
export type CryptoReply =
  | { readonly id: number; readonly ok: true; readonly value: boolean | string }
  | { readonly id: number; readonly ok: false; readonly error: string };

type RequestWithoutId = CryptoRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/**
 * Receipt crypto on the event loop, one operation per macrotask (queued operations wait their turn), so that I/O is
 * served between two signatures.
 *
 * @example
 * ```ts
 * const crypto = inlineReceiptCrypto(minerHotkey);
 * if (await crypto.verifyValidator(payload, signature)) receipt.miner_signature = await crypto.countersign(payload);
 * ```
 */
export function inlineReceiptCrypto(miner: Hotkey): ReceiptCrypto {
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => T): Promise<T> => {
    const run = tail.then(
      () =>
        new Promise<T>((resolve, reject) =>
          setImmediate(() => {
            try {
              resolve(work());
            } catch (error) {
              reject(toError(error));
            }
          }),
        ),
    );
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    mode: 'inline',
    verifyValidator: (payload, signature) =>
      serial(() => verifyValidatorReceiptSignature(payload as CryptoReceiptPayload, signature)),
    countersign: (payload) => serial(() => signReceiptPayload(miner, payload as CryptoReceiptPayload)),
    close: () => tail.then(() => undefined),
  };
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.tsx) require(workerData.tsx);
require(workerData.module);
`;

/**
 * Receipt crypto on `threads` worker threads (requests are spread round-robin). Resolves once every worker has loaded
 * its keys; rejects (and stops what it started) when one cannot start. Running from TypeScript sources (tsx), the
 * workers load them through tsx too.
 *
 * @example
 * ```ts
 * const crypto = await workerReceiptCrypto(minerHotkey, 1).catch(() => inlineReceiptCrypto(minerHotkey));
 * ```
 */
export async function workerReceiptCrypto(miner: Hotkey, threads: number): Promise<ReceiptCrypto> {
  const fromSources = __filename.endsWith('.ts');
  const module = join(__dirname, `receiptCrypto.worker${fromSources ? '.ts' : '.js'}`);
   
  const tsx = fromSources ? require.resolve('tsx/cjs') : undefined;
  const keyFile = keyFileOf(miner);
  const pending = new Map<number, { resolve: (value: boolean | string) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let closed = false;
  const workers: Worker[] = [];

  const start = (): Promise<Worker> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { module, tsx, keyFile, nice: RECEIPT_CRYPTO_NICE } });
      workers.push(worker);
      worker.on('message', (message: CryptoReply | { ready: true } | { failed: string }) => {
        if ('ready' in message) return resolve(worker);
        if ('failed' in message) return reject(new ReceiptCryptoError(`crypto worker failed to start: ${message.failed}`));
        const waiter = pending.get(message.id);
        if (waiter === undefined) return;
        pending.delete(message.id);
        if (message.ok) waiter.resolve(message.value);
        else waiter.reject(new ReceiptCryptoError(message.error));
      });
      worker.on('error', (error) => {
        reject(error);
        failAll(`crypto worker crashed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        if (!closed) failAll(`crypto worker exited with ${code}`);
      });
    });
  const failAll = (why: string): void => {
    for (const waiter of pending.values()) waiter.reject(new ReceiptCryptoError(why));
    pending.clear();
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, threads) }, () => start()));
  } catch (error) {
    closed = true;
    await Promise.all(workers.map((w) => w.terminate()));
    throw error;
  }

  // Requests go to the workers once the burst that produced them is over, in one message per worker: the thread
  // then signs while the event loop is idle instead of taking a core from it in the middle of a burst of accepts,
  // and the burst pays one postMessage instead of one per receipt.
  const outgoing = new QuietBatch<CryptoRequest>({
    run: (requests) => {
      if (closed) return; // their callers were rejected by close()
      const perWorker = workers.map((): CryptoRequest[] => []);
      for (const request of requests) perWorker[request.id % workers.length]!.push(request);
      perWorker.forEach((batch, i) => {
        if (batch.length > 0) workers[i]!.postMessage(batch);
      });
    },
    onError: (error) => failAll(`crypto requests could not be posted: ${error.message}`),
  });

  const call = (request: RequestWithoutId): Promise<boolean | string> => {
    if (closed) return Promise.reject(new ReceiptCryptoError('receipt crypto is closed'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      outgoing.push({ ...request, id });
    });
  };

  return {
    mode: 'worker',
    verifyValidator: async (payload, signature) => (await call({ op: 'verify', payload, signature })) === true,
    countersign: async (payload) => String(await call({ op: 'sign', payload })),
    async close() {
      if (closed) return;
      closed = true;
      outgoing.flush();
      failAll('receipt crypto is closed');
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
