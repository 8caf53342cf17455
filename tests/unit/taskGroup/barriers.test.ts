/**
 * Barrier bookkeeping and the group's pure decisions (book.ts), table-driven.
 */
import { arriveAtBarrier, departFromBarriers, emptyBarrierBook, type BarrierBook } from '../../../src/actors/taskGroup/barriers';
import {
  childArrived,
  childSettled,
  groupOutput,
  initialGroupBook,
  isFinished,
  startChildren,
  stopGroup,
  type GroupBook,
} from '../../../src/actors/taskGroup/book';
import { resolveTaskGroupInput, type ResolvedTaskGroupInput, type TaskSpec } from '../../../src/actors/taskGroup/types';
import { fromPromise } from 'xstate';

type Op = ['arrive', string, string, number] | ['depart', string, number];

/** Replays arrivals/departures (with the live count after each) and returns the releases, as `name:ids`. */
function replay(ops: readonly Op[]): { releases: string[]; book: BarrierBook } {
  let book = emptyBarrierBook;
  const releases: string[] = [];
  for (const op of ops) {
    if (op[0] === 'arrive') {
      const [, name, childId, live] = op;
      const r = arriveAtBarrier(book, name, childId, live);
      book = r.book;
      if (r.release) releases.push(`${r.release.name}:${r.release.childIds.join(',')}`);
    } else {
      const [, childId, live] = op;
      const r = departFromBarriers(book, childId, live);
      book = r.book;
      for (const release of r.releases) releases.push(`${release.name}:${release.childIds.join(',')}`);
    }
  }
  return { releases, book };
}

describe('barriers', () => {
  it.each<[string, Op[], string[]]>([
    ['one live child passes alone', [['arrive', 'x', 'a', 1]], ['x:a']],
    ['waits for the last of three', [['arrive', 'x', 'a', 3], ['arrive', 'x', 'b', 3], ['arrive', 'x', 'c', 3]], ['x:a,b,c']],
    ['a departure before arriving releases the rest (PR #381)', [['arrive', 'x', 'a', 3], ['arrive', 'x', 'b', 3], ['depart', 'c', 2]], ['x:a,b']],
    ['a waiter that departs is no longer released', [['arrive', 'x', 'a', 3], ['depart', 'a', 2], ['arrive', 'x', 'b', 2], ['arrive', 'x', 'c', 2]], ['x:b,c']],
    ['a repeated arrival counts once', [['arrive', 'x', 'a', 2], ['arrive', 'x', 'a', 2]], []],
    ['an open barrier lets a late arrival straight through', [['arrive', 'x', 'a', 1], ['arrive', 'x', 'late', 1]], ['x:a', 'x:late']],
    ['barriers are independent', [['arrive', 'x', 'a', 2], ['arrive', 'y', 'b', 2], ['arrive', 'y', 'a', 2], ['arrive', 'x', 'b', 2]], ['y:b,a', 'x:a,b']],
    ['a departure does not open barriers the others have not all reached', [['arrive', 'x', 'a', 3], ['arrive', 'y', 'b', 3], ['depart', 'c', 2]], []],
    ['everyone departing leaves nothing to release', [['arrive', 'x', 'a', 2], ['depart', 'a', 1], ['depart', 'b', 0]], []],
    ['names that are Object.prototype keys are plain names', [['arrive', '__proto__', 'a', 2], ['arrive', 'constructor', 'a', 2], ['arrive', '__proto__', 'b', 2]], ['__proto__:a,b']],
  ])('%s', (_title, ops, releases) => {
    expect(replay(ops).releases).toEqual(releases);
  });

  it('opens both barriers when the departing child was the one they waited for', () => {
    const { releases } = replay([
      ['arrive', 'x', 'a', 3],
      ['arrive', 'x', 'b', 3],
      ['arrive', 'y', 'a', 3],
      ['arrive', 'y', 'b', 3],
      ['depart', 'c', 2],
    ]);
    expect(releases).toEqual(['x:a,b', 'y:a,b']);
  });

  it('forgets a barrier nobody waits at any more', () => {
    const { book } = replay([['arrive', 'x', 'a', 2], ['depart', 'a', 1]]);
    expect(book.waiting.size).toBe(0);
    expect(book.opened).toEqual([]);
  });
});

describe('group decisions', () => {
  const logic = fromPromise(async () => undefined);
  const specs = (...ids: string[]): TaskSpec[] => ids.map((id) => ({ id, logic }));
  const config = (overrides: Partial<ResolvedTaskGroupInput> = {}): ResolvedTaskGroupInput => ({
    ...resolveTaskGroupInput({ children: specs('a', 'b', 'c') }),
    ...overrides,
  });

  it('starts children in order up to the concurrency limit', () => {
    const c = config({ concurrency: 2 });
    const { book, commands } = startChildren(initialGroupBook(c), c, 0);
    expect(commands.start.map((s) => s.id)).toEqual(['a', 'b']);
    expect(book.runningCount).toBe(2);
    expect(startChildren(book, c, 0).commands.start).toEqual([]);
  });

  it('starts the next child when one settles, with its run time', () => {
    const c = config({ concurrency: 2 });
    const started = startChildren(initialGroupBook(c), c, 0).book;
    const { book, commands } = childSettled(started, c, { id: 'a', status: 'done', output: 1 }, 40);
    expect(commands.settled).toEqual([{ result: { id: 'a', status: 'done', output: 1 }, durationMs: 40 }]);
    expect(commands.start.map((s) => s.id)).toEqual(['c']);
    expect(book.startedAtMs[2]).toBe(40);
    expect(book.runningCount).toBe(2);
  });

  it('under fail_fast, cancels the live and the queued on the first failure', () => {
    const c = config({ concurrency: 2, errorPolicy: 'fail_fast' });
    const started = startChildren(initialGroupBook(c), c, 0).book;
    const { book, commands } = childSettled(started, c, { id: 'b', status: 'failed', error: 'x' }, 5);
    expect(commands.stop).toEqual(['a']);
    expect(commands.settled.map((n) => `${n.result.id}:${n.result.status}:${String(n.durationMs)}`)).toEqual([
      'b:failed:5',
      'a:cancelled:5',
      'c:cancelled:undefined',
    ]);
    expect(isFinished(book, c)).toBe(true);
    expect(groupOutput(book, c).reason).toBe('fail_fast');
  });

  it('under fail_fast, releases nobody when the failure opens a barrier (its waiters are being stopped)', () => {
    const c = config({ errorPolicy: 'fail_fast' });
    let book = startChildren(initialGroupBook(c), c, 0).book;
    book = childArrived(book, c, 'a', 'start').book;
    book = childArrived(book, c, 'b', 'start').book;
    const { commands } = childSettled(book, c, { id: 'c', status: 'failed', error: 'x' }, 1);
    expect(commands.releases).toEqual([]);
    expect(commands.stop).toEqual(['a', 'b']);
  });

  it('under isolate, releases the waiters when a failure opens their barrier', () => {
    const c = config();
    let book = startChildren(initialGroupBook(c), c, 0).book;
    book = childArrived(book, c, 'a', 'start').book;
    book = childArrived(book, c, 'b', 'start').book;
    expect(childSettled(book, c, { id: 'c', status: 'failed', error: 'x' }, 1).commands.releases).toEqual([
      { name: 'start', childIds: ['a', 'b'] },
    ]);
  });

  it('ignores a result from a child that is not live', () => {
    const c = config();
    const started = startChildren(initialGroupBook(c), c, 0).book;
    const once = childSettled(started, c, { id: 'a', status: 'done' }, 1).book;
    expect(childSettled(once, c, { id: 'a', status: 'failed' }, 2).book).toBe(once);
    expect(childArrived(once, c, 'a', 'x').book).toBe(once);
  });

  it('stops only once', () => {
    const c = config();
    const started: GroupBook = startChildren(initialGroupBook(c), c, 0).book;
    const stopped = stopGroup(started, c, 'cancelled', 10).book;
    expect(stopGroup(stopped, c, 'deadline', 20).book).toBe(stopped);
    expect(groupOutput(stopped, c).reason).toBe('cancelled');
  });
});
