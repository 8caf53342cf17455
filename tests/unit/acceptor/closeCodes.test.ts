import {
  clampCloseReason,
  CLOSE_BY_ERROR_CODE,
  CloseCode,
  closeEventFor,
  closeFor,
  errorCodeForWsError,
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
} from '../../../src/transport/acceptor/closeCodes';
import { HordeError } from '../../../src/util/errors';

class UnknownValidatorError extends HordeError {
  constructor(hotkey: string) {
    super('auth.validator_not_found', `Unknown validator: ${hotkey}`);
  }
}

describe('close codes', () => {
  it.each([
    ['connection.normal', 1000],
    ['acceptor.shutting_down', 1001],
    ['auth.deadline_exceeded', 1008],
    ['auth.not_authenticated', 1008],
    ['frame.too_large', 1009],
    ['connection.role_failed', 1011],
    ['auth.signature_invalid', 3000],
    ['auth.validator_not_found', 3001],
    ['auth.validator_inactive', 3001],
    ['validator.deregistered', 3001],
    ['validator.heartbeat_stale', 3001],
    ['transport.send_overflow', 4000],
    ['reliable.session_superseded', 4001],
    ['reliable.invalid_frame', 4002],
    ['reliable.gap', 4003],
  ])('maps %s to close code %i', (errorCode, closeCode) => {
    expect(closeFor(errorCode).code).toBe(closeCode);
  });

  it('maps a HordeError through its stable code, and anything unmapped to 1011 without details', () => {
    expect(closeFor(new UnknownValidatorError('5F…'))).toEqual({ code: 3001, reason: 'unknown validator' });
    expect(closeFor(new Error('secret stack detail'))).toEqual({ code: 1011, reason: 'internal error' });
    expect(closeFor('no.such.code')).toEqual({ code: 1011, reason: 'internal error' });
  });

  it('gives every table entry a short reason and a code a close frame can carry (or 1006, never sent)', () => {
    for (const [errorCode, spec] of Object.entries(CLOSE_BY_ERROR_CODE)) {
      expect(Buffer.byteLength(spec.reason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
      if (spec.code !== CloseCode.abnormal) expect([errorCode, isSendableCloseCode(spec.code)]).toEqual([errorCode, true]);
    }
  });

  it('builds a connection.close command with a precise reason', () => {
    expect(closeEventFor('auth.validator_not_found', 'Unknown validator: 5Fabc')).toEqual({
      type: 'connection.close',
      code: 3001,
      reason: 'Unknown validator: 5Fabc',
    });
    expect(closeEventFor('auth.signature_invalid')).toEqual({ type: 'connection.close', code: 3000, reason: 'invalid signature' });
  });

  it.each([
    [1000, true],
    [1003, true],
    [1004, false],
    [1005, false],
    [1006, false],
    [1011, true],
    [1014, true],
    [1015, false],
    [2999, false],
    [3000, true],
    [4999, true],
    [5000, false],
    [1000.5, false],
  ])('says whether %d can be sent in a close frame (%s)', (code, sendable) => {
    expect(isSendableCloseCode(code)).toBe(sendable);
  });

  it('clamps a long reason to 123 bytes without splitting a multi-byte character', () => {
    const reason = `Unknown validator: ${'é'.repeat(100)}`;
    const clamped = clampCloseReason(reason);
    expect(Buffer.byteLength(clamped)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(clamped.endsWith('...')).toBe(true);
    expect(clamped).not.toContain('\uFFFD');
    expect(clampCloseReason('short')).toBe('short');
  });

  it.each([
    ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'frame.too_large'],
    ['WS_ERR_INVALID_UTF8', 'frame.invalid_utf8'],
    ['WS_ERR_INVALID_OPCODE', 'ws.protocol_error'],
    ['ECONNRESET', 'connection.reset'],
  ])('maps the ws error %s to %s', (wsCode, errorCode) => {
    expect(errorCodeForWsError(wsCode)).toBe(errorCode);
  });
});
