/**
 * sr25519 sign and verify on polkadot's WASM build of schnorrkel when it is loaded (`initCrypto()`), with
 * `@polkadot/util-crypto`'s pure-JS implementation (`@scure/sr25519`) as the fallback. Both use the same 64-byte
 * secret form and the `substrate` signing context, so their signatures verify with each other; the WASM one is about
 * six times faster (measured here: sign 0.47 vs 2.7 ms, verify 0.66 vs 4.1 ms), and a job's path signs and verifies
 * several times (request, miner auth, receipts).
 */
import { sr25519Sign as jsSign, sr25519Verify as jsVerify } from '@polkadot/util-crypto';
import { isReady as wasmIsReady, sr25519Sign as wasmSign, sr25519Verify as wasmVerify } from '@polkadot/wasm-crypto';

/** A key pair in util-crypto's form: 32-byte public key, 64-byte secret. */
export interface Sr25519Pair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * A 64-byte signature of `message` (randomised: two signatures of one message differ, both verify).
 *
 * @example
 * ```ts
 * const signature = sr25519SignMessage(new TextEncoder().encode('hello'), pair);
 * ```
 */
export function sr25519SignMessage(message: Uint8Array, pair: Sr25519Pair): Uint8Array {
  return wasmIsReady() ? wasmSign(pair.publicKey, pair.secretKey, message) : jsSign(message, pair);
}

/**
 * True when `signature` (64 bytes) is `publicKey`'s (32 bytes) over `message`. Throws on malformed lengths, like
 * util-crypto; callers check them first.
 *
 * @example
 * ```ts
 * sr25519VerifyMessage(message, signature, hotkey.publicKey); // true
 * ```
 */
export function sr25519VerifyMessage(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return wasmIsReady() ? wasmVerify(signature, message, publicKey) : jsVerify(message, signature, publicKey);
}
