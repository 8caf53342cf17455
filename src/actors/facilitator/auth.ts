/**
 * REST authentication of the facilitator (upstream's `/auth/nonce` + `/auth/login` and its JWT middleware): a signed
 * nonce, an sr25519 signature of it by a whitelisted hotkey, then an HS256 JWT (`sub` = hotkey) made and checked with
 * node:crypto. Pure apart from the injected clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkLoginNonce, createLoginNonce, verifyLoginSignature } from '../../crypto';
import { FACILITATOR_ERROR_DETAILS } from '../../sdk/facilitatorApi';
import type { Clock } from '../../util/clock';
import { err, ok, type Result } from '../../util/result';
import { JWT_LIFETIME_MS } from './defaults';

/** Why a token or a login was refused; `detail` is what the client gets. */
export interface AuthRefusal {
  readonly code: 'auth.token_missing' | 'auth.token_invalid' | 'auth.token_expired' | 'auth.login_refused' | 'auth.not_whitelisted';
  readonly detail: string;
}

/** Claims of a facilitator JWT. */
export interface JwtClaims {
  readonly sub: string;
  /** Seconds since 1970. */
  readonly iat: number;
  readonly exp: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function hmac(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data, 'utf8').digest();
}

/**
 * An HS256 JWT for `hotkey`, valid for `lifetimeMs`.
 *
 * @example
 * ```ts
 * const token = signJwt('5F…', { secret, clock: systemClock });
 * ```
 */
export function signJwt(hotkey: string, options: { secret: string; clock: Clock; lifetimeMs?: number }): string {
  const iat = Math.floor(options.clock.nowMs() / 1000);
  const exp = iat + Math.floor((options.lifetimeMs ?? JWT_LIFETIME_MS) / 1000);
  const payload = Buffer.from(JSON.stringify({ sub: hotkey, iat, exp } satisfies JwtClaims)).toString('base64url');
  const signingInput = `${HEADER}.${payload}`;
  return `${signingInput}.${hmac(options.secret, signingInput).toString('base64url')}`;
}

/**
 * Checks an HS256 JWT: the header must say HS256 (no `alg: none` downgrade), the MAC must match, `exp` must be in
 * the future. Never throws.
 */
export function verifyJwt(token: string, options: { secret: string; clock: Clock }): Result<JwtClaims, AuthRefusal> {
  const invalid = err<AuthRefusal>({ code: 'auth.token_invalid', detail: FACILITATOR_ERROR_DETAILS.invalidToken });
  const parts = token.split('.');
  if (parts.length !== 3) return invalid;
  const [header, payload, mac] = parts as [string, string, string];
  let claims: unknown;
  try {
    const head = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
    if (typeof head !== 'object' || head === null || (head as { alg?: unknown }).alg !== 'HS256') return invalid;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return invalid;
  }
  const expected = hmac(options.secret, `${header}.${payload}`);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid;
  if (typeof claims !== 'object' || claims === null) return invalid;
  const { sub, iat, exp } = claims as Record<string, unknown>;
  if (typeof sub !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') return invalid;
  if (options.clock.nowMs() >= exp * 1000) return err({ code: 'auth.token_expired', detail: FACILITATOR_ERROR_DETAILS.tokenExpired });
  return ok({ sub, iat, exp });
}

/** The `Authorization: Bearer <jwt>` token of a request, or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

/** Who may use the REST API and with which secret; one per facilitator. */
export interface RestAuth {
  /** `GET /auth/nonce`. */
  nonce(): string;
  /** `POST /auth/login`: a JWT, or why not. */
  login(body: { hotkey: string; signature: string; nonce: string }): Result<string, AuthRefusal>;
  /** The hotkey of a request's bearer token (still whitelisted), or why not. */
  authenticate(authorization: string | undefined): Result<string, AuthRefusal>;
}

/**
 * Builds the REST authentication of one facilitator.
 *
 * @example
 * ```ts
 * const auth = createRestAuth({ secret, clock: systemClock, whitelist: new Set([user.ss58]) });
 * const token = auth.login(buildLoginRequest(user, auth.nonce()));
 * ```
 */
export function createRestAuth(options: {
  secret: string;
  clock: Clock;
  /** Hotkeys allowed to log in (upstream's `HotkeyWhitelist`); checked again on every request. */
  whitelist: ReadonlySet<string>;
  jwtLifetimeMs?: number;
  randomHex?: () => string;
}): RestAuth {
  const { secret, clock, whitelist } = options;
  return {
    nonce: () => createLoginNonce({ secret, clock, ...(options.randomHex === undefined ? {} : { randomHex: options.randomHex }) }),
    login: (body) => {
      const nonce = checkLoginNonce(body.nonce, { secret, clock });
      if (!nonce.ok) return err({ code: 'auth.login_refused', detail: nonce.error.message });
      if (!verifyLoginSignature(body)) return err({ code: 'auth.login_refused', detail: 'Invalid signature' });
      if (!whitelist.has(body.hotkey)) return err({ code: 'auth.not_whitelisted', detail: FACILITATOR_ERROR_DETAILS.hotkeyNotWhitelisted });
      return ok(signJwt(body.hotkey, { secret, clock, ...(options.jwtLifetimeMs === undefined ? {} : { lifetimeMs: options.jwtLifetimeMs }) }));
    },
    authenticate: (authorization) => {
      const token = bearerToken(authorization);
      if (token === undefined) return err({ code: 'auth.token_missing', detail: FACILITATOR_ERROR_DETAILS.notAuthenticated });
      const claims = verifyJwt(token, { secret, clock });
      if (!claims.ok) return claims;
      if (!whitelist.has(claims.value.sub)) return err({ code: 'auth.not_whitelisted', detail: FACILITATOR_ERROR_DETAILS.hotkeyNotWhitelisted });
      return ok(claims.value.sub);
    },
  };
}
