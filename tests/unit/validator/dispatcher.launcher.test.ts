/**
 * The launcher that starts organic job actors under a real jobs supervisor and hands back each one's outcome.
 */
import { assign, createActor, setup, type AnyActorRef } from 'xstate';
import { supervisedJobLauncher, type OrganicJobInput } from '../../../src/actors/validator/dispatcher';
import type { OrganicJobOutcome } from '../../../src/actors/validator/types';
import { supervisorMachine } from '../../../src/supervisors/supervisor.machine';
import type { V2JobRequest } from '../../../src/protocol';

type FakeJobEvent = { type: 'finish' } | { type: 'crash' } | { type: 'supervisor.shutdown' };

/** Stands in for the organic job actor: ends on `finish` or `supervisor.shutdown`, fails on `crash`. */
const fakeJob = setup({
  types: {
    input: {} as OrganicJobInput,
    context: {} as { uuid: string; status: OrganicJobOutcome['status'] },
    events: {} as FakeJobEvent,
  },
  actions: {
    crash: () => {
      throw new Error('job actor crashed');
    },
  },
}).createMachine({
  context: ({ input }) => ({ uuid: input.request.uuid, status: 'completed' }),
  initial: 'running',
  states: {
    // Talking to its miner.
    running: {
      on: {
        finish: 'done',
        crash: { actions: 'crash' },
        'supervisor.shutdown': { target: 'done', actions: assign({ status: 'horde_failed' }) },
      },
    },
    // Reported its terminal status.
    done: { type: 'final' },
  },
  output: ({ context }): OrganicJobOutcome => ({
    jobUuid: context.uuid,
    minerHotkey: 'miner',
    status: context.status,
    excused: false,
    incident: undefined,
  }),
});

const route = { miner: { hotkey: 'miner', address: '127.0.0.1', port: 1 }, trusted: false };
const request = (uuid: string): V2JobRequest => ({ uuid }) as V2JobRequest;
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function jobsSupervisor(maxChildren = 10): AnyActorRef {
  return createActor(supervisorMachine, {
    input: { policy: { strategy: 'one_for_one', intensity: 0, periodMs: 1_000, decider: () => 'stop' }, name: 'jobs', maxChildren },
  }).start();
}

function child(supervisor: AnyActorRef, uuid: string): AnyActorRef {
  return (supervisor.getSnapshot() as { children: Record<string, AnyActorRef> }).children[`job:${uuid}`]!;
}

describe('the supervised job launcher', () => {
  const supervisors: AnyActorRef[] = [];
  afterEach(() => {
    for (const s of supervisors.splice(0)) s.stop();
  });
  const start = (maxChildren?: number): AnyActorRef => {
    const s = jobsSupervisor(maxChildren);
    supervisors.push(s);
    return s;
  };

  it('starts each job as a child job:<uuid> and resolves with its output when it finishes', async () => {
    const supervisor = start();
    const launcher = supervisedJobLauncher({ supervisor, logic: fakeJob });
    const outcome = launcher.launch({ request: request('a'), route });
    child(supervisor, 'a').send({ type: 'finish' });
    await expect(outcome).resolves.toMatchObject({ jobUuid: 'a', status: 'completed' });
    launcher.close();
  });

  it('passes supervisor.shutdown on to the job, which ends with its own outcome', async () => {
    const supervisor = start();
    const launcher = supervisedJobLauncher({ supervisor, logic: fakeJob });
    const outcome = launcher.launch({ request: request('a'), route });
    supervisor.send({ type: 'supervisor.shutdown' });
    await expect(outcome).resolves.toMatchObject({ status: 'horde_failed' });
    launcher.close();
  });

  it('resolves with no outcome when the job is stopped by force', async () => {
    const supervisor = start();
    const launcher = supervisedJobLauncher({ supervisor, logic: fakeJob, shutdownMs: 0 });
    const outcome = launcher.launch({ request: request('a'), route });
    supervisor.send({ type: 'supervisor.stop_child', id: 'job:a' });
    await expect(outcome).resolves.toBeUndefined();
    launcher.close();
  });

  it('rejects when the job actor fails', async () => {
    const supervisor = start();
    const launcher = supervisedJobLauncher({ supervisor, logic: fakeJob });
    const outcome = launcher.launch({ request: request('a'), route });
    child(supervisor, 'a').send({ type: 'crash' });
    await expect(outcome).rejects.toThrow('job actor crashed');
    // A failed job takes nothing else down.
    const next = launcher.launch({ request: request('b'), route });
    child(supervisor, 'b').send({ type: 'finish' });
    await expect(next).resolves.toMatchObject({ jobUuid: 'b' });
    launcher.close();
  });

  it('rejects at once when the supervisor refuses the child', async () => {
    const supervisor = start(1);
    const launcher = supervisedJobLauncher({ supervisor, logic: fakeJob });
    void launcher.launch({ request: request('a'), route });
    await expect(launcher.launch({ request: request('b'), route })).rejects.toThrow(/not started/);
    launcher.close();
    await settle();
  });
});
