import { errorCode } from '../../util/errors';

/**
 * Every WebSocket close code the acceptor uses, in one table. 1000–1015 are RFC 6455; 3000–3999 are registered for
 * libraries/frameworks and upstream ComputeHorde uses 3000/3001 on the facilitator link; 4000–4999 are Horde's own.
 */
export const CloseCode = {
  /** The conversation is over (the role logic finished, or the peer said goodbye). */
  normal: 1000,
  /** The server is shutting down (`acceptor.close()`); the peer should reconnect elsewhere or later. */
  goingAway: 1001,
  /** The peer broke the WebSocket protocol (ws detected a bad frame). */
  protocolError: 1002,
  /** Never sent on the wire: recorded when a socket ends without a close frame (terminated, reset). */
  abnormal: 1006,
  /** A text frame was not valid UTF-8. */
  invalidPayload: 1007,
  /** Policy: no authentication before the deadline, or an action that needs authentication. */
  policyViolation: 1008,
  /** A message larger than the route's max payload. */
  messageTooBig: 1009,
  /** A bug on our side (role logic failed, a message could not be encoded). */
  internalError: 1011,
  /** Upstream facilitator: the authentication signature does not verify. */
  badSignature: 3000,
  /** Upstream facilitator: unknown, inactive or deregistered validator, or a stale heartbeat. */
  unknownValidator: 3001,
  /** The peer reads slower than we write: the send buffer or the reliable window is full. */
  sendOverflow: 4000,
  /** Reliable mode: the same session was resumed on a newer connection. */
  sessionSuperseded: 4001,
  /** Reliable mode: a frame was neither `R<seq> <text>` nor `A<seq>`. */
  reliableInvalidFrame: 4002,
  /** Reliable mode: a data frame skipped a seq; closing makes the client reconnect and resend in order. */
  reliableGap: 4003,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** A close code and the reason text that goes with it on the wire. */
export interface CloseSpec {
  readonly code: number;
  readonly reason: string;
}

/**
 * Error code (`HordeError.code`, a DecodeError code, a Horde-internal code) → close code and wire reason. Protocol
 * errors raised anywhere end a connection through this table, so one error always looks the same to the peer.
 * The `auth.*` names are upstream's facilitator error types (`auth.signature_invalid`, `auth.validator_not_found`).
 */
export const CLOSE_BY_ERROR_CODE: Readonly<Record<string, CloseSpec>> = {
  'connection.normal': { code: CloseCode.normal, reason: 'normal closure' },
  'acceptor.shutting_down': { code: CloseCode.goingAway, reason: 'server shutting down' },
  'ws.protocol_error': { code: CloseCode.protocolError, reason: 'websocket protocol error' },
  'connection.heartbeat_timeout': { code: CloseCode.abnormal, reason: 'heartbeat timeout' },
  'connection.reset': { code: CloseCode.abnormal, reason: 'connection reset' },
  'frame.invalid_utf8': { code: CloseCode.invalidPayload, reason: 'invalid utf-8' },
  'auth.deadline_exceeded': { code: CloseCode.policyViolation, reason: 'authentication deadline exceeded' },
  'auth.not_authenticated': { code: CloseCode.policyViolation, reason: 'not authenticated' },
  'frame.too_large': { code: CloseCode.messageTooBig, reason: 'message too big' },
  'connection.role_failed': { code: CloseCode.internalError, reason: 'internal error' },
  'connection.encode_failed': { code: CloseCode.internalError, reason: 'internal error' },
  'auth.signature_invalid': { code: CloseCode.badSignature, reason: 'invalid signature' },
  'auth.validator_not_found': { code: CloseCode.unknownValidator, reason: 'unknown validator' },
  'auth.validator_inactive': { code: CloseCode.unknownValidator, reason: 'inactive validator' },
  'validator.deregistered': { code: CloseCode.unknownValidator, reason: 'validator deregistered' },
  'validator.heartbeat_stale': { code: CloseCode.unknownValidator, reason: 'validator heartbeat too old' },
  'transport.send_overflow': { code: CloseCode.sendOverflow, reason: 'send buffer overflow' },
  'reliable.session_superseded': { code: CloseCode.sessionSuperseded, reason: 'session resumed on another connection' },
  'reliable.invalid_frame': { code: CloseCode.reliableInvalidFrame, reason: 'invalid reliable frame' },
  'reliable.gap': { code: CloseCode.reliableGap, reason: 'sequence gap, reconnect to resend' },
};

/** What an unmapped error closes with: a bug on our side, with no detail leaked to the peer. */
export const INTERNAL_ERROR_CLOSE: CloseSpec = { code: CloseCode.internalError, reason: 'internal error' };

/**
 * The close for an error (anything thrown, or an error code string): the table entry for its code, else 1011.
 *
 * @example
 * ```ts
 * closeFor('auth.signature_invalid');            // { code: 3000, reason: 'invalid signature' }
 * closeFor(new UnknownValidatorError(hotkey));   // its code 'auth.validator_not_found' → { code: 3001, … }
 * ```
 */
export function closeFor(error: unknown): CloseSpec {
  const code = typeof error === 'string' ? error : errorCode(error);
  return CLOSE_BY_ERROR_CODE[code] ?? INTERNAL_ERROR_CLOSE;
}

/**
 * The `connection.close` command for an error, ready to send to a connection handle, optionally with a more precise
 * reason than the table's (it is clamped to what a close frame can carry).
 *
 * @example
 * ```ts
 * sendTo(({ context }) => context.connection, closeEventFor('auth.validator_not_found', `Unknown validator: ${hotkey}`));
 * ```
 */
export function closeEventFor(
  error: unknown,
  reason?: string,
): { type: 'connection.close'; code: number; reason: string } {
  const spec = closeFor(error);
  return { type: 'connection.close', code: spec.code, reason: clampCloseReason(reason ?? spec.reason) };
}

/** ws error codes (`WS_ERR_*`) → the error code of the table, for errors ws raises while reading a frame. */
export function errorCodeForWsError(wsCode: string): string {
  switch (wsCode) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
      return 'frame.too_large';
    case 'WS_ERR_INVALID_UTF8':
      return 'frame.invalid_utf8';
    default:
      return wsCode.startsWith('WS_ERR_') ? 'ws.protocol_error' : 'connection.reset';
  }
}

/**
 * True for codes a close frame may carry (RFC 6455 §7.4: 1000–1014 minus 1004–1006, and 3000–4999). `ws.close()`
 * throws on any other, so every code is checked before it reaches the socket.
 */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** A close frame's payload is at most 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Cuts a reason to {@link MAX_CLOSE_REASON_BYTES} of UTF-8 without splitting a character (`ws.close()` throws on a
 * longer one, and a role may pass `Unknown validator: <hotkey>` of any length).
 */
export function clampCloseReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let bytes = 0;
  let out = '';
  for (const char of reason) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > MAX_CLOSE_REASON_BYTES - 3) break;
    bytes += size;
    out += char;
  }
  return `${out}...`;
}
