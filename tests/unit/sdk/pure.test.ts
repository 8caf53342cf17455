import { httpRetryDelayMs, isRetryableOutcome, shouldRetry } from '../../../src/sdk/retryPolicy';
import { SseLineTooLongError, SseParser } from '../../../src/sdk/sse';
import { jobFailureReason } from '../../../src/sdk/errors';

describe('HTTP retry policy', () => {
  it.each([
    [{ kind: 'network' } as const, true],
    [{ kind: 'response', status: 429 } as const, true],
    [{ kind: 'response', status: 500 } as const, true],
    [{ kind: 'response', status: 503 } as const, true],
    [{ kind: 'response', status: 400 } as const, false],
    [{ kind: 'response', status: 401 } as const, false],
    [{ kind: 'response', status: 404 } as const, false],
    [{ kind: 'response', status: 413 } as const, false],
  ])('retries %o: %s', (outcome, expected) => {
    expect(isRetryableOutcome(outcome)).toBe(expected);
  });

  it.each([
    [1, 0, 200],
    [1, 0.5, 400],
    [2, 0.5, 600],
    [3, 0.999, 1798],
    [4, 0.999, 3396],
    [50, 0.999, 4995],
    [50, 0, 200],
  ])('waits after attempt %i with draw %f: %i ms', (attempt, draw, expected) => {
    expect(httpRetryDelayMs(attempt, () => draw)).toBe(expected);
  });

  it('never waits less than 0.2 s or more than 5 s', () => {
    for (let attempt = 1; attempt < 40; attempt++) {
      for (const draw of [0, 0.3, 0.7, 0.999999]) {
        const delay = httpRetryDelayMs(attempt, () => draw);
        expect(delay).toBeGreaterThanOrEqual(200);
        expect(delay).toBeLessThanOrEqual(5_000);
      }
    }
  });

  it('stops at the fifth attempt', () => {
    expect(shouldRetry({ kind: 'network' }, 4)).toBe(true);
    expect(shouldRetry({ kind: 'network' }, 5)).toBe(false);
  });
});

describe('SseParser', () => {
  it('dispatches an event on a blank line, joining data lines', () => {
    const parser = new SseParser();
    expect(parser.push('event: status\ndata: a\ndata: b\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'status', data: 'a\nb', id: undefined }]);
  });

  it('handles events split across chunks and CRLF line ends split between chunks', () => {
    const parser = new SseParser();
    const events = [...parser.push('id: 1\r'), ...parser.push('\nevent: sta'), ...parser.push('tus\r\ndata: {"x":1}\r\n\r'), ...parser.push('\n')];
    expect(events).toEqual([{ event: 'status', data: '{"x":1}', id: '1' }]);
  });

  it('ignores comments and names unnamed events "message"', () => {
    const parser = new SseParser();
    expect(parser.push(': keep-alive\n\ndata: x\n\n')).toEqual([{ event: 'message', data: 'x', id: undefined }]);
  });

  it('refuses a line longer than its bound instead of buffering it', () => {
    const parser = new SseParser(16);
    expect(() => parser.push('data: 0123456789abcdefgh')).toThrow(SseLineTooLongError);
  });
});

describe('jobFailureReason', () => {
  it('names the reason, the stage, who reported it and the message', () => {
    const job = {
      uuid: 'u',
      status_history: [
        { status: 'sent' },
        { status: 'horde_failed', metadata: { horde_failure_details: { reported_by: 'validator', reason: 'miner_connection_failed', message: 'connection lost' } } },
      ],
    };
    expect(jobFailureReason(job)).toBe('horde_failed (miner_connection_failed, by validator) connection lost');
  });

  it('says when there is no status yet', () => {
    expect(jobFailureReason({ uuid: 'u', status_history: [] })).toBe('no status yet');
  });
});
