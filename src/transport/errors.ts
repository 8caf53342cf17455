import { HordeError } from '../util/errors';

/** The socket did not open within `connectTimeoutMs` (DNS, TCP, TLS and the HTTP upgrade together). */
export class ConnectTimeoutError extends HordeError {
  constructor(url: string, timeoutMs: number) {
    super('transport.connect_timeout', `no connection to ${url} within ${timeoutMs} ms`);
  }
}

/** A ping went unanswered for `pongTimeoutMs`: the peer or the path to it is dead, though no RST arrived. */
export class HeartbeatTimeoutError extends HordeError {
  constructor(timeoutMs: number) {
    super('transport.heartbeat_timeout', `no pong within ${timeoutMs} ms`);
  }
}

/** The socket failed or closed; `cause` holds the underlying error (ECONNREFUSED, an unexpected HTTP status …). */
export class SocketClosedError extends HordeError {
  readonly closeCode: number;
  constructor(closeCode: number, reason: string, options?: { cause?: unknown }) {
    super('transport.socket_closed', `socket closed (${closeCode}${reason ? `: ${reason}` : ''})`, options);
    this.closeCode = closeCode;
  }
}

/** The outbox was full under the `fail` overflow policy. */
export class OutboxOverflowError extends HordeError {
  constructor(capacity: number) {
    super('transport.outbox_overflow', `outbox full (${capacity} messages) under the 'fail' overflow policy`);
  }
}

/** The reconnect budget (attempts or deadline) ran out; `cause` is the last failure. */
export class TransportGaveUpError extends HordeError {
  readonly attempts: number;
  constructor(attempts: number, rule: 'attempts' | 'deadline', options?: { cause?: unknown }) {
    super('transport.gave_up', `gave up reconnecting after ${attempts} failed attempts (${rule} exhausted)`, options);
    this.attempts = attempts;
  }
}

/** `transport.send` was given a message the codec could not encode; the message is not sent. */
export class EncodeError extends HordeError {
  constructor(options?: { cause?: unknown }) {
    super('transport.encode_failed', 'the codec could not encode an outgoing message', options);
  }
}

/** Options that cannot work (a negative timeout, a capacity of 0 …); lists every problem at once. */
export class InvalidTransportOptionsError extends HordeError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('transport.invalid_options', `invalid transport options: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
