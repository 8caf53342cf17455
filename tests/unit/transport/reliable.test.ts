import fc from 'fast-check';
import {
  encodeAckFrame,
  encodeDataFrame,
  isReliableHeader,
  parseLastReceivedHeader,
  parseReliableFrame,
  ReliableReceiver,
  ReliableSender,
} from '../../../src/transport/reliable';

describe('reliable frame format', () => {
  it.each([
    ['R1 {"a":1}', { kind: 'data', seq: 1, text: '{"a":1}' }],
    ['R42 ', { kind: 'data', seq: 42, text: '' }],
    ['R7 text with spaces', { kind: 'data', seq: 7, text: 'text with spaces' }],
    ['R9007199254740991 x', { kind: 'data', seq: 9007199254740991, text: 'x' }],
    ['A1', { kind: 'ack', seq: 1 }],
    ['A123456', { kind: 'ack', seq: 123456 }],
  ])('parses %j', (raw, expected) => {
    expect(parseReliableFrame(raw)).toEqual(expected);
  });

  it.each([
    [''],
    ['{"message_type":"V0Heartbeat"}'],
    ['R'],
    ['R1'],
    ['R {"a":1}'],
    ['R0 x'],
    ['R01 x'],
    ['R-1 x'],
    ['R+1 x'],
    ['R1.5 x'],
    ['R99999999999999999 x'],
    ['A'],
    ['A0'],
    ['A1 '],
    ['Ax'],
    ['a1'],
    ['r1 x'],
  ])('reports %j as invalid instead of throwing', (raw) => {
    expect(parseReliableFrame(raw).kind).toBe('invalid');
  });

  it('round-trips any seq and payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.string(), (seq, text) => {
        expect(parseReliableFrame(encodeDataFrame(seq, text))).toEqual({ kind: 'data', seq, text });
        expect(parseReliableFrame(encodeAckFrame(seq))).toEqual({ kind: 'ack', seq });
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const frame = parseReliableFrame(raw);
        expect(['data', 'ack', 'invalid']).toContain(frame.kind);
      }),
    );
  });

  it.each([
    [undefined, 0],
    ['0', 0],
    ['17', 17],
    [' 17 ', 17],
    [['5', '9'], 5],
    ['abc', 0],
    ['-3', 0],
  ])('reads x-horde-last-received %j as %d', (value, expected) => {
    expect(parseLastReceivedHeader(value)).toBe(expected);
  });

  it.each([
    [undefined, false],
    ['1', true],
    [['1'], true],
    ['0', false],
    ['yes', false],
  ])('reads x-horde-reliable %j as %s', (value, expected) => {
    expect(isReliableHeader(value)).toBe(expected);
  });
});

describe('ReliableSender', () => {
  it('numbers frames from 1 and keeps them until acknowledged', () => {
    const sender = new ReliableSender({ capacity: 10 });
    expect(sender.push('a')).toEqual({ seq: 1 });
    expect(sender.push('b')).toEqual({ seq: 2 });
    expect(sender.push('c')).toEqual({ seq: 3 });
    expect(sender.unackedCount).toBe(3);
    expect(sender.ack(2)).toBe(2);
    expect(sender.unackedCount).toBe(1);
    expect(sender.ackedThrough).toBe(2);
  });

  it('treats acks as cumulative and ignores stale ones', () => {
    const sender = new ReliableSender({ capacity: 10 });
    for (const t of ['a', 'b', 'c', 'd']) sender.push(t);
    expect(sender.ack(3)).toBe(3);
    expect(sender.ack(1)).toBe(0);
    expect(sender.ack(3)).toBe(0);
    expect(sender.unackedCount).toBe(1);
  });

  it('clamps an ack beyond the last assigned seq', () => {
    const sender = new ReliableSender({ capacity: 10 });
    sender.push('a');
    expect(sender.ack(99)).toBe(1);
    expect(sender.ackedThrough).toBe(1);
    expect(sender.push('b')).toEqual({ seq: 2 });
  });

  it('refuses a push when full without consuming a seq, and reports the drop', () => {
    const dropped: string[] = [];
    const sender = new ReliableSender({ capacity: 2, onDrop: (t) => dropped.push(t) });
    sender.push('a');
    sender.push('b');
    expect(sender.push('c')).toEqual({ dropped: true });
    expect(dropped).toEqual(['c']);
    sender.ack(1);
    expect(sender.push('d')).toEqual({ seq: 3 });
  });

  it('resends what the peer has not received, in order, after a reconnect', () => {
    const sender = new ReliableSender({ capacity: 10 });
    for (const t of ['a', 'b', 'c', 'd', 'e']) sender.push(t);
    sender.ack(1);
    expect(sender.resumeFrom(3)).toEqual([
      { seq: 4, text: 'd' },
      { seq: 5, text: 'e' },
    ]);
    expect(sender.ackedThrough).toBe(3);
    expect(sender.push('f')).toEqual({ seq: 6 });
  });

  it('resends everything unacked when the peer reports exactly what was acked', () => {
    const sender = new ReliableSender({ capacity: 10 });
    for (const t of ['a', 'b', 'c']) sender.push(t);
    sender.ack(1);
    expect(sender.resumeFrom(1).map((f) => f.seq)).toEqual([2, 3]);
  });

  it('renumbers after the last received seq when the peer forgot the session', () => {
    const sender = new ReliableSender({ capacity: 10 });
    for (const t of ['a', 'b', 'c', 'd']) sender.push(t);
    sender.ack(2);
    expect(sender.resumeFrom(0)).toEqual([
      { seq: 1, text: 'c' },
      { seq: 2, text: 'd' },
    ]);
    expect(sender.push('e')).toEqual({ seq: 3 });
    expect(sender.ack(3)).toBe(3);
  });

  it('continues after the peer when the peer is ahead of this (fresh) sender', () => {
    const sender = new ReliableSender({ capacity: 10 });
    sender.push('x');
    expect(sender.resumeFrom(40)).toEqual([{ seq: 41, text: 'x' }]);
    expect(sender.push('y')).toEqual({ seq: 42 });
  });

  it('treats a malformed peer position as 0', () => {
    const sender = new ReliableSender({ capacity: 10 });
    sender.push('a');
    expect(sender.resumeFrom(Number.NaN)).toEqual([{ seq: 1, text: 'a' }]);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new ReliableSender({ capacity: 0 })).toThrow(RangeError);
  });

  it('keeps order and count across many pushes and acks (compaction)', () => {
    const sender = new ReliableSender({ capacity: 5000 });
    for (let i = 1; i <= 4000; i++) sender.push(String(i));
    sender.ack(3000);
    for (let i = 4001; i <= 5000; i++) sender.push(String(i));
    const rest = sender.resumeFrom(3000);
    expect(rest).toHaveLength(2000);
    expect(rest[0]).toEqual({ seq: 3001, text: '3001' });
    expect(rest[1999]).toEqual({ seq: 5000, text: '5000' });
  });
});

describe('ReliableReceiver', () => {
  it('delivers in order, flags duplicates and gaps', () => {
    const receiver = new ReliableReceiver();
    expect(receiver.accept(1)).toBe('deliver');
    expect(receiver.accept(2)).toBe('deliver');
    expect(receiver.accept(2)).toBe('duplicate');
    expect(receiver.accept(1)).toBe('duplicate');
    expect(receiver.accept(4)).toBe('gap');
    expect(receiver.lastDelivered).toBe(2);
    expect(receiver.accept(3)).toBe('deliver');
    expect(receiver.accept(4)).toBe('deliver');
  });

  it('resumes from a known position', () => {
    const receiver = new ReliableReceiver(10);
    expect(receiver.accept(10)).toBe('duplicate');
    expect(receiver.accept(11)).toBe('deliver');
  });

  it('rejects a negative start', () => {
    expect(() => new ReliableReceiver(-1)).toThrow(RangeError);
  });
});

describe('sender and receiver over a lossy, reconnecting link', () => {
  // Each run: the link drops a random suffix of what was in flight at each disconnect; the sender resumes from the
  // receiver's position. Whatever happens, the receiver sees every text exactly once, in order.
  it('delivers every pushed text exactly once and in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant('push'), fc.constant('deliver'), fc.constant('reconnect')), { maxLength: 200 }),
        fc.infiniteStream(fc.boolean()),
        (ops, coin) => {
          const sender = new ReliableSender({ capacity: 1000 });
          const receiver = new ReliableReceiver();
          const delivered: string[] = [];
          let inFlight: { seq: number; text: string }[] = [];
          let acksInFlight: number[] = [];
          let pushed = 0;
          const coins = coin[Symbol.iterator]();
          for (const op of ops) {
            if (op === 'push') {
              const text = `m${++pushed}`;
              const r = sender.push(text);
              if ('seq' in r) inFlight.push({ seq: r.seq, text });
            } else if (op === 'deliver') {
              const frame = inFlight.shift();
              if (frame && receiver.accept(frame.seq) === 'deliver') delivered.push(frame.text);
              if (frame) acksInFlight.push(receiver.lastDelivered);
              const ack = acksInFlight.shift();
              if (ack !== undefined && coins.next().value) sender.ack(ack);
            } else {
              acksInFlight = [];
              inFlight = sender.resumeFrom(receiver.lastDelivered).slice();
            }
          }
          // drain: reconnect and deliver everything
          for (const frame of sender.resumeFrom(receiver.lastDelivered)) {
            if (receiver.accept(frame.seq) === 'deliver') delivered.push(frame.text);
          }
          expect(delivered).toEqual(Array.from({ length: pushed }, (_, i) => `m${i + 1}`));
        },
      ),
    );
  });
});
