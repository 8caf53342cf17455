/**
 * Model-based test of the organic job machine: `getShortestPaths` explores the real machine (its link child faked)
 * over miner messages, socket events, shutdown and every timer; each path is then replayed on a fresh actor with a
 * SimulatedClock (a timer event = advancing the clock to it). After every step: the state is the one the graph
 * predicted, statuses only move forward in upstream's order, there is never more than one terminal status, and a
 * job that reached `finishing`/`done` has exactly one.
 */
import { createActor, fromCallback, SimulatedClock, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { resolveOrganicJobTimings } from '../../../src/actors/validator/deadlines';
import type { OrganicJobMessages } from '../../../src/actors/validator/organicMessages';
import { createOrganicJobMachine, type OrganicJobEvent, type OrganicLinkCommand, type OrganicLinkInput } from '../../../src/machines/organicJob.machine';
import { JOB_STATUS_END_STATES, type JobStatus } from '../../../src/protocol';
import { jobRequest, memoryStatusSink, miner, type MemorySink } from '../../support/organicJobHarness';

const request = jobRequest({ uuid: 'model-job' });
const route = { miner: { hotkey: 'miner', address: '127.0.0.1', port: 1 }, trusted: false };
const timings = resolveOrganicJobTimings();

/** Unsigned stand-ins: the model is about the lifecycle, not the signatures. */
const fakeMessages: OrganicJobMessages = {
  auth: () => ({ message_type: 'ValidatorAuthForMiner', validator_hotkey: 'v', miner_hotkey: 'm', timestamp: 0, signature: '0x' }),
  initialRequest: () => ({ message_type: 'GenericError', details: 'initial' }),
  acceptedReceipt: () => ({ message_type: 'GenericError', details: 'accepted receipt' }),
  jobRequest: () => ({ message_type: 'GenericError', details: 'job request' }),
  finishedReceipt: () => ({ message_type: 'GenericError', details: 'finished receipt' }),
};

function machineWith(sink: MemorySink, clock: { now(): number }) {
  return createOrganicJobMachine({
    timings,
    clock: { nowMs: () => clock.now() },
    sink,
    messagesFor: () => fakeMessages,
    minerUrlFor: () => 'ws://127.0.0.1:1/',
    judgeDecline: () => ({ excused: false, validExcuses: 0, requiredExcuses: 1 }),
  }).provide({ actors: { link: fromCallback<OrganicLinkCommand, OrganicLinkInput>(() => undefined) } });
}

const uuid = request.uuid;
const events = [
  { type: 'organic.miner.connected' },
  { type: 'organic.miner.disconnected', reason: 'gone' },
  { type: 'supervisor.shutdown' },
  ...[miner.accept(uuid), miner.ready(uuid), miner.volumes(uuid), miner.done(uuid), miner.finished(uuid), miner.decline(uuid), miner.failed(uuid)].map(
    (message) => ({ type: 'organic.miner.message', message }),
  ),
  ...[
    'connectTimeout.organicJob.active.connecting',
    'reservation.organicJob.active.reserving',
    'readiness.organicJob.active.spinningUp',
    'deadline.organicJob.active.running.downloading',
    'deadline.organicJob.active.running.executing',
    'deadline.organicJob.active.running.uploading',
    'closeTimeout.organicJob.finishing',
  ].map((after) => ({ type: `xstate.after.${after}` })),
] as unknown as OrganicJobEvent[];

const ORDER: JobStatus[] = ['accepted', 'executor_ready', 'volumes_ready', 'execution_done'];

type Snapshot = SnapshotFrom<ReturnType<typeof machineWith>>;

const serializeState = (s: Snapshot): string =>
  JSON.stringify({ v: s.value, inbox: Object.keys(s.context.inbox).sort(), c: s.context.connected, e: s.context.ending?.kind ?? null, st: s.status });

function paths() {
  const graphClock = new SimulatedClock();
  return getShortestPaths(machineWith(memoryStatusSink(), graphClock), { events, serializeState, input: { request, route } });
}

const all = paths();

describe('organic job machine (model)', () => {
  it('explores every state of the lifecycle', () => {
    const reached = new Set(all.map((p) => JSON.stringify(p.state.value)));
    for (const value of [
      { active: 'connecting' },
      { active: 'reserving' },
      { active: 'spinningUp' },
      { active: { running: 'downloading' } },
      { active: { running: 'executing' } },
      { active: { running: 'uploading' } },
      'finishing',
      'done',
    ]) {
      expect(reached).toContain(JSON.stringify(value));
    }
  });

  describe.each(all.map((p) => [p.steps.map((s) => s.event.type.replace('organic.miner.', '')).join(' → ') || '(start)', p] as const))('%s', (_name, path) => {
    it('holds the invariants at every step', () => {
      const clock = new SimulatedClock();
      const sink = memoryStatusSink();
      const actor = createActor(machineWith(sink, clock), { clock, input: { request, route } });
      actor.start();
      try {
        for (const step of path.steps) {
          const { event } = step;
          if (event.type.startsWith('xstate.after.')) {
            const snapshot = actor.getSnapshot();
            const delay = event.type.split('.')[2]!;
            const ms =
              delay === 'deadline'
                ? Math.max(0, snapshot.context.deadlineAtMs - clock.now())
                : delay === 'connectTimeout'
                  ? timings.connectTimeoutMs
                  : delay === 'reservation'
                    ? timings.reservationTimeLimitMs
                    : delay === 'readiness'
                      ? 8_000
                      : timings.closeTimeoutMs;
            clock.increment(ms);
          } else if (actor.getSnapshot().status === 'active') {
            actor.send(event);
          }
          const snapshot = actor.getSnapshot();
          expect(serializeState(snapshot)).toBe(serializeState(step.state));
          const statuses = sink.statuses() as JobStatus[];
          const terminal = statuses.filter((s) => JOB_STATUS_END_STATES.has(s));
          expect(terminal.length).toBeLessThanOrEqual(1);
          if (snapshot.value === 'finishing' || snapshot.status === 'done') expect(terminal).toHaveLength(1);
          const progress = statuses.filter((s) => !JOB_STATUS_END_STATES.has(s));
          expect(progress).toEqual(ORDER.slice(0, progress.length));
          if (terminal.length === 1) expect(statuses.at(-1)).toBe(terminal[0]);
        }
      } finally {
        actor.stop();
      }
    });
  });
});
