/**
 * The receipt crypto worker thread (started by `receiptCrypto.ts`): verifies validator signatures and countersigns
 * receipt payloads with the miner hotkey, off the miner's event loop. sr25519 costs ~5–15 ms per operation here.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { hotkeyFromKeyFileJson, initCrypto, signReceiptPayload, verifyValidatorReceiptSignature } from '../../crypto';
import type { CryptoReply, CryptoRequest } from './receiptCrypto';

/**
 * Lowers this thread's CPU priority (Linux: a thread is a task with its own nice value, found through
 * /proc/thread-self). Receipts are not urgent; the miner's event loop is: on a machine with few cores, the event
 * loop should win the CPU when both want it. Elsewhere this does nothing.
 */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed: run at the normal priority.
  }
}

async function serve(): Promise<void> {
  lowerPriority((workerData as { nice: number }).nice);
  await initCrypto();
  const data = workerData as { keyFile: unknown };
  const miner = hotkeyFromKeyFileJson(data.keyFile, 'the miner hotkey');
  const port = parentPort!;
  // Requests come in batches (see receiptCrypto.ts); each is answered as soon as it is done.
  port.on('message', (requests: readonly CryptoRequest[]) => {
    for (const request of requests) {
      let reply: CryptoReply;
      try {
        reply =
          request.op === 'verify'
            ? { id: request.id, ok: true, value: verifyValidatorReceiptSignature(request.payload, request.signature) }
            : { id: request.id, ok: true, value: signReceiptPayload(miner, request.payload) };
      } catch (error) {
        reply = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
      }
      port.postMessage(reply);
    }
  });
  port.postMessage({ ready: true });
}

void serve().catch((error: unknown) => {
  parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) });
});
