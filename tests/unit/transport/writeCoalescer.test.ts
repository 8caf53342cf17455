import { WriteCoalescer } from '../../../src/transport/acceptor/writeCoalescer';

function setup(maxDelayMs: number) {
  let now = 0;
  const turnEnds: Array<() => void> = [];
  const errors: Error[] = [];
  const coalescer = new WriteCoalescer({
    maxDelayMs,
    nowMs: () => now,
    schedule: (callback) => turnEnds.push(callback),
    onError: (error) => errors.push(error),
  });
  const endTurn = () => {
    for (const callback of turnEnds.splice(0)) callback();
  };
  return {
    coalescer,
    errors,
    endTurn,
    advance: (ms: number) => {
      now += ms;
    },
    scheduled: () => turnEnds.length,
  };
}

describe('WriteCoalescer', () => {
  it('holds the writes of a turn and runs each socket once at its end', () => {
    const { coalescer, endTurn } = setup(4);
    const written: string[] = [];
    const a = () => written.push('a');
    const b = () => written.push('b');
    coalescer.add(a);
    coalescer.add(b);
    coalescer.add(a); // a second write of the same socket in the same turn
    expect(written).toEqual([]);
    expect(coalescer.size).toBe(2);
    endTurn();
    expect(written).toEqual(['a', 'b']);
    expect(coalescer.size).toBe(0);
  });

  it('writes at once when a write comes maxDelayMs after the oldest held one', () => {
    const { coalescer, endTurn, advance, scheduled } = setup(4);
    const written: string[] = [];
    coalescer.add(() => written.push('first'));
    advance(3);
    coalescer.add(() => written.push('second'));
    expect(written).toEqual([]);
    advance(1);
    coalescer.add(() => written.push('third'));
    expect(written).toEqual(['first', 'second', 'third']);
    // the end of the turn finds nothing left, and the next write starts a new window
    endTurn();
    expect(written).toHaveLength(3);
    coalescer.add(() => written.push('fourth'));
    expect(scheduled()).toBe(1);
    endTurn();
    expect(written).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('writes every message at once with maxDelayMs 0', () => {
    const { coalescer, scheduled } = setup(0);
    const written: string[] = [];
    coalescer.add(() => written.push('now'));
    expect(coalescer.enabled).toBe(false);
    expect(written).toEqual(['now']);
    expect(scheduled()).toBe(0);
  });

  it('still writes the other sockets when one flush throws, and reports it', () => {
    const { coalescer, endTurn, errors } = setup(4);
    const written: string[] = [];
    coalescer.add(() => {
      throw new Error('broken socket');
    });
    coalescer.add(() => written.push('other'));
    endTurn();
    expect(written).toEqual(['other']);
    expect(errors.map((e) => e.message)).toEqual(['broken socket']);
  });

  it('runs on the real event loop after the current turn', async () => {
    const coalescer = new WriteCoalescer({ maxDelayMs: 4, onError: (error) => { throw error; } });
    const written: string[] = [];
    coalescer.add(() => written.push('x'));
    expect(written).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toEqual(['x']);
  });
});
