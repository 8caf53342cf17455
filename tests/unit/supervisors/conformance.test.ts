/**
 * OTP conformance matrix (supervisor_SUITE.erl's "concept permanent, transient and temporary" × "restart
 * strategy" groups): three children `first` (permanent), `subject` (the restart type under test) and `last`
 * (permanent); `subject` exits normally or with an error; the table says who comes back, and when.
 */
import type { RestartType, Strategy } from '../../../src/supervisors/policy';
import { seededRandom } from '../../../src/util/clock';
import { ProbeFailure, startSupervisor, stopAllSupervisors, type Harness } from './harness';

afterEach(stopAllSupervisors);

const SEED = 42;
const backoff = { minMs: 1_000, maxMs: 30_000, resetAfterMs: 15_000 };
/** Independent restatement of the backoff: full jitter in [min, min(max, min * 2^attempt)). */
const expectedDelayMs = (attempt: number, draw: number): number =>
  1_000 + Math.floor(draw * (Math.min(30_000, 1_000 * 2 ** attempt) - 1_000));

type Exit = 'normal' | 'error';
type Who = 'first' | 'subject' | 'last';

const matrix: Array<[Strategy, RestartType, Exit, Who[]]> = [
  ['one_for_one', 'permanent', 'normal', ['subject']],
  ['one_for_one', 'permanent', 'error', ['subject']],
  ['one_for_one', 'transient', 'normal', []],
  ['one_for_one', 'transient', 'error', ['subject']],
  ['one_for_one', 'temporary', 'normal', []],
  ['one_for_one', 'temporary', 'error', []],
  ['one_for_all', 'permanent', 'normal', ['first', 'subject', 'last']],
  ['one_for_all', 'permanent', 'error', ['first', 'subject', 'last']],
  ['one_for_all', 'transient', 'normal', []],
  ['one_for_all', 'transient', 'error', ['first', 'subject', 'last']],
  ['one_for_all', 'temporary', 'normal', []],
  ['one_for_all', 'temporary', 'error', []],
  ['rest_for_one', 'permanent', 'normal', ['subject', 'last']],
  ['rest_for_one', 'permanent', 'error', ['subject', 'last']],
  ['rest_for_one', 'transient', 'normal', []],
  ['rest_for_one', 'transient', 'error', ['subject', 'last']],
  ['rest_for_one', 'temporary', 'normal', []],
  ['rest_for_one', 'temporary', 'error', []],
];

function threeChildren(strategy: Strategy, restart: RestartType): Harness {
  return startSupervisor(
    { policy: { strategy, intensity: 3, periodMs: 60_000, backoff }, random: seededRandom(SEED) },
    (spec) => [spec('first', 'permanent'), spec('subject', restart), spec('last', 'permanent')],
  );
}

describe.each(matrix)('%s, a %s subject, %s exit', (strategy, restart, exit, restarted) => {
  const failAtMs = 5_000;
  const delayMs = expectedDelayMs(1, seededRandom(SEED)());
  const everyone: Who[] = ['first', 'subject', 'last'];

  const who = restarted.length === 0 ? 'nobody' : restarted.join(', ');
  it(`restarts exactly ${who}, in start order, after the backoff`, () => {
    const h = threeChildren(strategy, restart);
    h.clock.advanceTo(failAtMs);
    if (exit === 'normal') h.complete('subject');
    else h.fail('subject');

    expect(h.decisions).toEqual([
      {
        type: 'supervisor.decision',
        childId: 'subject',
        directive: restarted.length > 0 ? 'restart' : 'stop',
        errorCode: exit === 'normal' ? 'normal' : 'probe.failed',
        ...(restarted.length > 0 ? { restartInMs: delayMs } : {}),
      },
    ]);
    // Siblings taken down are asked to stop in reverse start order (the subject is already gone).
    const takenDown = everyone.filter((w) => w !== 'subject' && restarted.includes(w)).reverse();
    expect(h.shutdownRequests()).toEqual(takenDown);

    h.clock.advanceTo(failAtMs + delayMs - 1);
    for (const who of everyone) expect(h.starts(who)).toEqual([0]);

    h.clock.advanceTo(failAtMs + delayMs);
    for (const who of everyone) {
      expect(h.starts(who)).toEqual(restarted.includes(who) ? [0, failAtMs + delayMs] : [0]);
    }
    const restartOrder = h.log.filter((e) => e.what === 'started' && e.atMs > 0).map((e) => e.child);
    expect(restartOrder).toEqual(everyone.filter((w) => restarted.includes(w)));

    const alive = Object.keys(h.actor.getSnapshot().children).sort();
    expect(alive).toEqual(restarted.length > 0 ? ['first', 'last', 'subject'] : ['first', 'last']);
    expect(h.clock.pendingDueTimes()).toEqual([]);
    expect(h.actor.getSnapshot().value).toBe('running');
  });
});

describe.each<Strategy>(['one_for_all', 'rest_for_one'])('%s with a temporary sibling', (strategy) => {
  it('stops the temporary sibling taken down by the restart and never starts it again', () => {
    const h = startSupervisor({ policy: { strategy, intensity: 3, periodMs: 60_000 } }, (spec) => [
      spec('failing', 'permanent'),
      spec('job', 'temporary'),
    ]);
    h.fail('failing', new ProbeFailure());
    expect(h.shutdownRequests()).toEqual(['job']);
    expect(h.starts('failing')).toEqual([0, 0]);
    expect(h.starts('job')).toEqual([0]);
    expect(Object.keys(h.actor.getSnapshot().children)).toEqual(['failing']);
    expect(h.decisions.map((d) => [d.childId, d.directive])).toEqual([['failing', 'restart']]);
  });
});
