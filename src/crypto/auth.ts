/**
 * The authentication blobs of three links, byte-exact with upstream:
 *
 * - validator → miner WS: `ValidatorAuthForMiner`, signature over `"{validator_hotkey}:{miner_hotkey}:{timestamp}"`;
 * - validator → facilitator WS: `V0AuthenticationRequest`, signature over the raw public key bytes;
 * - SDK → facilitator REST login: signature over the nonce's UTF-8, as bare hex.
 */
import { u8aToHex } from '@polkadot/util';
import type { Clock } from '../util/clock';
import { err, ok, type Result } from '../util/result';
import { AUTH_MESSAGE_MAX_AGE_MS, AUTH_MESSAGE_MAX_FUTURE_SKEW_MS } from './defaults';
import { parseHexBytes, signBlob, ss58FromPublicKey, verify, verifyWithPublicKey, type Hotkey } from './keys';

/** Why a signed message was refused: a stable code for metrics and close reasons, and a sentence for logs. */
export interface Refusal<Code extends string> {
  readonly code: Code;
  readonly message: string;
}

/** The first message a validator sends on every miner connection (`protocol_messages.ValidatorAuthForMiner`). */
export interface ValidatorAuthForMiner {
  readonly message_type: 'ValidatorAuthForMiner';
  readonly validator_hotkey: string;
  readonly miner_hotkey: string;
  /** Unix seconds (`int(time.time())`). */
  readonly timestamp: number;
  /** `"0x" + hex(sr25519 signature of validatorAuthBlob(...))`. */
  readonly signature: string;
}

/**
 * The exact text a validator signs to authenticate to a miner.
 *
 * @example
 * ```ts
 * validatorAuthBlob({ validator_hotkey: '5V...', miner_hotkey: '5M...', timestamp: 1700000000 }); // '5V...:5M...:1700000000'
 * ```
 */
export function validatorAuthBlob(fields: {
  readonly validator_hotkey: string;
  readonly miner_hotkey: string;
  readonly timestamp: number;
}): string {
  return `${fields.validator_hotkey}:${fields.miner_hotkey}:${String(fields.timestamp)}`;
}

/**
 * A signed `ValidatorAuthForMiner` for `minerHotkey`, timestamped now (whole seconds, like upstream).
 *
 * @example
 * ```ts
 * const auth = signValidatorAuth(validatorHotkey, minerSs58, systemClock);
 * socket.send(JSON.stringify(auth));
 * ```
 */
export function signValidatorAuth(validator: Hotkey, minerHotkey: string, clock: Clock): ValidatorAuthForMiner {
  const fields = {
    validator_hotkey: validator.ss58,
    miner_hotkey: minerHotkey,
    timestamp: Math.floor(clock.nowMs() / 1000),
  };
  return { message_type: 'ValidatorAuthForMiner', ...fields, signature: signBlob(validator, validatorAuthBlob(fields)) };
}

export type ValidatorAuthRefusalCode =
  | 'auth.malformed'
  | 'auth.too_old'
  | 'auth.from_future'
  | 'auth.wrong_miner_hotkey'
  | 'auth.wrong_validator_hotkey'
  | 'auth.bad_signature';

export interface VerifyValidatorAuthOptions {
  /** The validator hotkey from the connection's URL path; the message must name the same one. */
  readonly expectedValidatorHotkey: string;
  /** The miner's own hotkey; `undefined` skips the check (upstream's `IS_LOCAL_MINER`/`DEBUG_TURN_AUTHENTICATION_OFF`). */
  readonly expectedMinerHotkey: string | undefined;
  readonly clock: Clock;
  /** @default AUTH_MESSAGE_MAX_AGE_MS */
  readonly maxAgeMs?: number;
  /** @default AUTH_MESSAGE_MAX_FUTURE_SKEW_MS */
  readonly maxFutureSkewMs?: number;
}

/**
 * The miner's check of a `ValidatorAuthForMiner` (upstream `verify_auth_msg`), in upstream's order: freshness, miner
 * hotkey, validator hotkey, signature. Also refuses timestamps further than `maxFutureSkewMs` ahead, which upstream
 * does not. Accepts untrusted input (fields of the wrong type give `auth.malformed`); never throws.
 *
 * @example
 * ```ts
 * const verdict = verifyValidatorAuth(message, { expectedValidatorHotkey: urlHotkey, expectedMinerHotkey: me.ss58, clock });
 * if (!verdict.ok) close(verdict.error.code);
 * ```
 */
export function verifyValidatorAuth(
  message: Partial<Record<keyof ValidatorAuthForMiner, unknown>>,
  options: VerifyValidatorAuthOptions,
): Result<void, Refusal<ValidatorAuthRefusalCode>> {
  const { validator_hotkey, miner_hotkey, timestamp, signature } = message;
  if (
    typeof validator_hotkey !== 'string' ||
    typeof miner_hotkey !== 'string' ||
    typeof signature !== 'string' ||
    typeof timestamp !== 'number' ||
    !Number.isSafeInteger(timestamp)
  ) {
    return err({ code: 'auth.malformed', message: 'ValidatorAuthForMiner needs string hotkeys, signature and an int timestamp' });
  }
  const nowMs = options.clock.nowMs();
  const stampMs = timestamp * 1000;
  const maxAgeMs = options.maxAgeMs ?? AUTH_MESSAGE_MAX_AGE_MS;
  const maxFutureSkewMs = options.maxFutureSkewMs ?? AUTH_MESSAGE_MAX_FUTURE_SKEW_MS;
  if (stampMs < nowMs - maxAgeMs) {
    return err({ code: 'auth.too_old', message: `msg too old (${nowMs - stampMs} ms > ${maxAgeMs} ms)` });
  }
  if (stampMs > nowMs + maxFutureSkewMs) {
    return err({ code: 'auth.from_future', message: `timestamp ${stampMs - nowMs} ms in the future` });
  }
  if (options.expectedMinerHotkey !== undefined && miner_hotkey !== options.expectedMinerHotkey) {
    return err({
      code: 'auth.wrong_miner_hotkey',
      message: `wrong miner hotkey (${options.expectedMinerHotkey}!=${miner_hotkey})`,
    });
  }
  if (validator_hotkey !== options.expectedValidatorHotkey) {
    return err({
      code: 'auth.wrong_validator_hotkey',
      message: `wrong validator hotkey (${options.expectedValidatorHotkey}!=${validator_hotkey})`,
    });
  }
  const blob = validatorAuthBlob({ validator_hotkey, miner_hotkey, timestamp });
  if (!verify(options.expectedValidatorHotkey, blob, signature)) {
    return err({ code: 'auth.bad_signature', message: 'Signature mismatches' });
  }
  return ok(undefined);
}

/** The validator's first message to the facilitator (`fv_protocol.validator_requests.V0AuthenticationRequest`). */
export interface V0AuthenticationRequest {
  readonly message_type: 'V0AuthenticationRequest';
  /** Hex of the 32-byte public key, without `0x` (`keypair.public_key.hex()`). */
  readonly public_key: string;
  /** `"0x" + hex(sign(public key bytes))`. */
  readonly signature: string;
}

/**
 * Builds the validator's `V0AuthenticationRequest`. It signs a constant (the public key), so upstream's scheme is
 * replayable by anyone who saw it once; Horde keeps it for interoperability.
 *
 * @example
 * ```ts
 * socket.send(JSON.stringify(buildAuthenticationRequest(validatorHotkey)));
 * ```
 */
export function buildAuthenticationRequest(hotkey: Hotkey): V0AuthenticationRequest {
  return {
    message_type: 'V0AuthenticationRequest',
    public_key: u8aToHex(hotkey.publicKey).slice(2),
    signature: u8aToHex(hotkey.sign(hotkey.publicKey)),
  };
}

export type AuthenticationRefusalCode = 'auth.malformed' | 'auth.bad_signature';

/**
 * The facilitator's check of a `V0AuthenticationRequest`: the signature over the public key's bytes, by that key.
 * On success gives the validator's SS58 address (format 42) for the registry lookup that follows. Never throws.
 */
export function verifyAuthenticationRequest(
  request: Partial<Record<keyof V0AuthenticationRequest, unknown>>,
): Result<{ ss58: string }, Refusal<AuthenticationRefusalCode>> {
  const { public_key, signature } = request;
  if (typeof public_key !== 'string' || typeof signature !== 'string') {
    return err({ code: 'auth.malformed', message: 'public_key and signature must be strings' });
  }
  const publicKey = parseHexBytes(public_key);
  if (publicKey === undefined || publicKey.length !== 32) {
    return err({ code: 'auth.malformed', message: 'public_key must be 32 bytes of hex' });
  }
  if (!verifyWithPublicKey(publicKey, publicKey, signature)) {
    return err({ code: 'auth.bad_signature', message: 'signature does not match public_key' });
  }
  return ok({ ss58: ss58FromPublicKey(publicKey) });
}

/** The body of `POST /auth/login`. */
export interface LoginRequest {
  readonly hotkey: string;
  /** Hex of the signature, without `0x` (`hotkey.sign(nonce.encode()).hex()`). */
  readonly signature: string;
  readonly nonce: string;
}

/**
 * Signs a nonce from `GET /auth/nonce` for `POST /auth/login`.
 *
 * @example
 * ```ts
 * const body = buildLoginRequest(hotkey, (await getNonce()).nonce);
 * ```
 */
export function buildLoginRequest(hotkey: Hotkey, nonce: string): LoginRequest {
  return {
    hotkey: hotkey.ss58,
    signature: u8aToHex(hotkey.sign(new TextEncoder().encode(nonce))).slice(2),
    nonce,
  };
}

/** The facilitator's signature check of a login body (the nonce itself is checked with `checkLoginNonce`). */
export function verifyLoginSignature(request: Partial<Record<keyof LoginRequest, unknown>>): boolean {
  const { hotkey, signature, nonce } = request;
  if (typeof hotkey !== 'string' || typeof signature !== 'string' || typeof nonce !== 'string') return false;
  return verify(hotkey, nonce, signature);
}
