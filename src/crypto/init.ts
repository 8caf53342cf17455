import { cryptoIsReady, cryptoWaitReady } from '@polkadot/util-crypto';
import { HordeError } from '../util/errors';

/** sr25519 was used before `initCrypto()` finished (the WASM backend is not loaded yet). */
export class CryptoNotReadyError extends HordeError {
  constructor() {
    super('crypto.not_ready', 'sr25519 is not initialised: await initCrypto() once at startup before using keys');
  }
}

/**
 * Loads the sr25519 WASM backend. Await it once at process start (and in a test file's `beforeAll`) before creating
 * keys, signing or verifying; later calls return at once.
 *
 * @example
 * ```ts
 * await initCrypto();
 * const hotkey = devHotkey('Alice');
 * ```
 */
export async function initCrypto(): Promise<void> {
  if (cryptoIsReady()) return;
  const ready = await cryptoWaitReady();
  if (!ready) throw new CryptoNotReadyError();
}

/** Throws a named error instead of polkadot's untyped one when `initCrypto()` was forgotten. */
export function assertCryptoReady(): void {
  if (!cryptoIsReady()) throw new CryptoNotReadyError();
}
