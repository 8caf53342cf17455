/**
 * REST login nonces: `"<hex>:<timestamp>:<signature>"`, made the way Django's `TimestampSigner().sign(token_hex(16))`
 * makes them (upstream `auth_nonce_view`), so a Horde facilitator and a Django one sharing a secret accept each
 * other's nonces. The timestamp is base62 Unix seconds; the signature is unpadded URL-safe base64 of
 * HMAC-SHA256(key = SHA256(salt + "signer" + secret), "<hex>:<timestamp>").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../util/clock';
import { err, ok, type Result } from '../util/result';
import type { Refusal } from './auth';
import { NONCE_LIFETIME_MS, NONCE_RANDOM_BYTES, NONCE_SIGNER_SALT } from './defaults';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Django's `baseconv.base62.encode` of a non-negative integer. */
export function base62Encode(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`base62 needs a non-negative integer: ${value}`);
  let rest = value;
  let out = '';
  do {
    out = BASE62[rest % 62]! + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out;
}

/** Django's `baseconv.base62.decode`; `undefined` for text outside the alphabet or beyond 2^53. */
export function base62Decode(text: string): number | undefined {
  if (text.length === 0) return undefined;
  let value = 0;
  for (const char of text) {
    const digit = BASE62.indexOf(char);
    if (digit < 0) return undefined;
    value = value * 62 + digit;
  }
  return Number.isSafeInteger(value) ? value : undefined;
}

function signature(value: string, secret: string, salt: string): string {
  const key = createHash('sha256').update(`${salt}signer${secret}`, 'utf8').digest();
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

export interface NonceOptions {
  /** The facilitator's server secret (Django's `SECRET_KEY`). */
  readonly secret: string;
  readonly clock: Clock;
  /** Django signer salt. @default NONCE_SIGNER_SALT */
  readonly salt?: string;
}

/**
 * A fresh signed login nonce (`GET /auth/nonce`). `randomHex` is injectable for tests; it defaults to 16 random
 * bytes as hex, like `secrets.token_hex(16)`.
 *
 * @example
 * ```ts
 * const nonce = createLoginNonce({ secret, clock: systemClock }); // 'e3b0c442...:1qZ4Xy:AbC...'
 * ```
 */
export function createLoginNonce(
  options: NonceOptions & { readonly randomHex?: () => string },
): string {
  const token = options.randomHex?.() ?? randomBytes(NONCE_RANDOM_BYTES).toString('hex');
  const value = `${token}:${base62Encode(Math.floor(options.clock.nowMs() / 1000))}`;
  return `${value}:${signature(value, options.secret, options.salt ?? NONCE_SIGNER_SALT)}`;
}

export type NonceRefusalCode = 'nonce.malformed' | 'nonce.bad_signature' | 'nonce.expired';

/**
 * Checks a login nonce (`TimestampSigner.unsign(nonce, max_age=NONCE_LIFETIME)`): the HMAC first, then the age.
 * Upstream answers "Invalid nonce" / "Nonce expired" for the two refusals. Never throws.
 *
 * @example
 * ```ts
 * const verdict = checkLoginNonce(body.nonce, { secret, clock });
 * if (!verdict.ok) return reply(400, verdict.error.message);
 * ```
 */
export function checkLoginNonce(
  nonce: string,
  options: NonceOptions & { readonly maxAgeMs?: number },
): Result<{ token: string; issuedAtMs: number }, Refusal<NonceRefusalCode>> {
  if (typeof nonce !== 'string') return err({ code: 'nonce.malformed', message: 'nonce must be a string' });
  const lastColon = nonce.lastIndexOf(':');
  if (lastColon < 0) return err({ code: 'nonce.malformed', message: 'No ":" found in value' });
  const value = nonce.slice(0, lastColon);
  const given = Buffer.from(nonce.slice(lastColon + 1), 'utf8');
  const expected = Buffer.from(signature(value, options.secret, options.salt ?? NONCE_SIGNER_SALT), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return err({ code: 'nonce.bad_signature', message: 'Invalid nonce' });
  }
  const stampColon = value.lastIndexOf(':');
  const seconds = stampColon < 0 ? undefined : base62Decode(value.slice(stampColon + 1));
  if (seconds === undefined) return err({ code: 'nonce.malformed', message: 'nonce has no timestamp' });
  const issuedAtMs = seconds * 1000;
  const ageMs = options.clock.nowMs() - issuedAtMs;
  const maxAgeMs = options.maxAgeMs ?? NONCE_LIFETIME_MS;
  if (ageMs > maxAgeMs) return err({ code: 'nonce.expired', message: 'Nonce expired' });
  return ok({ token: value.slice(0, stampColon), issuedAtMs });
}
