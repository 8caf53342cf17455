/**
 * The executor root (src/actors/executor/executorRoot.machine.ts) on a SimulatedClock, with a fake miner link and a
 * scripted driver: message routing, one final message whatever the driver does, the sweep after a driver crash or
 * a forced stop, and the final-delivery grace when the link is down as the job ends.
 */
import { assign, createActor, fromPromise, sendParent, setup, SimulatedClock, type AnyEventObject } from 'xstate';
import {
  executorRootMachine,
  type ExecutorRootObserver,
  type ExecutorRootSettings,
} from '../../src/actors/executor/executorRoot.machine';
import type { CleanupReport, JobDriverOutput } from '../../src/machines/jobDriver.machine';
import type { ExecutorToMinerMessageInput } from '../../src/protocol';
import { CLEAN_REPORT, DEFAULT_SETTINGS, decoded, driverHarness } from '../support/jobDriverHarness';
import { initialJobRequest, jobRequest } from '../support/scriptedMiner';

const JOB = '7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f';

/** A miner link that records what it is told and emits transport events when the test says so. */
function fakeLink(record: AnyEventObject[]) {
  return setup({
    types: { context: {} as { dropped: number }, events: {} as AnyEventObject },
  }).createMachine({
    context: { dropped: 0 },
    initial: 'running',
    states: {
      running: {
        on: {
          'transport.send': { actions: ({ event }) => record.push(event) },
          'transport.close': { target: 'closed', actions: ({ event }) => record.push(event) },
          'fake.emit': { actions: sendParent(({ event }) => event.event as AnyEventObject) },
          'fake.gone': { target: 'closed', actions: assign({ dropped: 1 }) },
        },
      },
      closed: { type: 'final', entry: sendParent({ type: 'transport.stopped', reason: 'closed' }) },
    },
    output: ({ context }) => ({ reason: 'closed', stats: { sent: 0, received: 0, dropped: context.dropped, decodeErrors: 0, heartbeatMisses: 0, connects: 1 } }),
  });
}

const DONE_OUTPUT: JobDriverOutput = {
  outcome: 'completed',
  stage: 'result_upload',
  reason: 'completed',
  message: '',
  jobUuid: JOB,
  finalMessageSent: true,
  cleanup: CLEAN_REPORT,
};

/** A driver that does what the test tells it and records what it receives. */
function fakeDriver(record: AnyEventObject[]) {
  return setup({
    types: { context: {} as { output: JobDriverOutput }, events: {} as AnyEventObject },
  }).createMachine({
    context: { output: DONE_OUTPUT },
    initial: 'running',
    states: {
      running: {
        on: {
          'job.miner.message': { actions: ({ event }) => record.push(event) },
          'job.miner.link_lost': { actions: ({ event }) => record.push(event) },
          'job.miner.link_gone': { actions: ({ event }) => record.push(event) },
          'job.stop': { actions: ({ event }) => record.push(event) },
          'fake.send': { actions: sendParent(({ event }) => ({ type: 'job.send', message: event.message as ExecutorToMinerMessageInput, final: event.final === true })) },
          'fake.stage': { actions: sendParent(({ event }) => ({ type: 'job.stage', stage: event.stage as string })) },
          'fake.finish': { target: 'done', actions: assign({ output: ({ event }) => ({ ...DONE_OUTPUT, ...(event.output as Partial<JobDriverOutput>) }) }) },
          'fake.crash': {
            actions: () => {
              throw new Error('driver bug');
            },
          },
        },
      },
      done: { type: 'final' },
    },
    output: ({ context }) => context.output,
  });
}

const SETTINGS: ExecutorRootSettings = { finalDeliveryGraceMs: 5_000, shutdownTimeoutMs: 30_000, linkCloseTimeoutMs: 6_000, maxGenericErrorReplies: 2 };

function rootHarness(options: { driver?: 'fake' | 'real'; settings?: Partial<ExecutorRootSettings> } = {}) {
  const clock = new SimulatedClock();
  const linkRecord: AnyEventObject[] = [];
  const driverRecord: AnyEventObject[] = [];
  const sweeps: number[] = [];
  const counts = { forwarded: [] as string[], refused: [] as string[], undelivered: [] as string[], suppressed: 0 };
  const observer: ExecutorRootObserver = {
    finalForwarded: (t) => counts.forwarded.push(t),
    finalRefused: (t) => counts.refused.push(t),
    finalUndelivered: (t) => counts.undelivered.push(t),
    genericErrorSuppressed: () => counts.suppressed++,
    log: () => undefined,
  };
  const real = options.driver === 'real' ? driverHarness({ effects: { runJob: 'manual' } }) : undefined;
  const sweepReport: CleanupReport = { containersRemoved: 1, tempDir: 'removed', problems: [] };
  return { clock, linkRecord, driverRecord, sweeps, counts, observer, real, sweepReport };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

function start(options: Parameters<typeof rootHarness>[0] = {}) {
  const h = rootHarness(options);
  const logic = executorRootMachine.provide({
    actors: {
      minerLink: fakeLink(h.linkRecord) as never,
      jobDriver: (h.real === undefined ? fakeDriver(h.driverRecord) : h.real.actor.logic) as never,
      sweep: fromPromise<CleanupReport, void>(async () => {
        h.sweeps.push(h.clock.now());
        return h.sweepReport;
      }),
    },
  });
  const actor = createActor(logic, {
    clock: h.clock,
    input: {
      settings: { ...SETTINGS, ...options.settings },
      link: { url: 'ws://miner.test/v0.1/executor_interface/t', codec: { decode: () => ({ ok: false, error: { code: 'frame.malformed_json', message: '' } }), encode: () => '' } },
      driver: { settings: DEFAULT_SETTINGS, clock: { nowMs: () => h.clock.now() }, jobUuidHint: JOB },
      observer: h.observer,
    },
  });
  running.push(actor);
  actor.start();
  // The fake link takes `fake.*` events the transport's type does not know.
  const link = () => actor.getSnapshot().children.minerLink! as unknown as { send(event: AnyEventObject): void };
  const driver = () => actor.getSnapshot().children.jobDriver;
  const emit = (event: AnyEventObject) => link().send({ type: 'fake.emit', event });
  const sentToMiner = () => h.linkRecord.filter((e) => e.type === 'transport.send').map((e) => (e.message as ExecutorToMinerMessageInput).message_type);
  return { ...h, actor, link, driver, emit, sentToMiner };
}

const running: Array<{ stop(): void }> = [];
afterEach(() => {
  for (const actor of running.splice(0)) actor.stop();
});

describe('executor root: routing', () => {
  it('forwards the miner’s messages to the driver and the driver’s messages to the link', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.emit({ type: 'transport.message', message: decoded(initialJobRequest({ jobUuid: JOB })) });
    await flush();
    expect(r.driverRecord.map((e) => e.type)).toEqual(['job.miner.message']);
    r.driver()!.send({ type: 'fake.send', message: { message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null } });
    await flush();
    expect(r.sentToMiner()).toEqual(['V0ExecutorReadyRequest']);
  });

  it('tells the driver when the link drops and when it is gone for good', async () => {
    const r = start();
    r.emit({ type: 'transport.closed', code: 1006, reason: '' });
    r.emit({ type: 'transport.stopped', reason: 'gave_up' });
    await flush();
    expect(r.driverRecord).toEqual([
      { type: 'job.miner.link_lost', code: 1006, reason: '' },
      { type: 'job.miner.link_gone', reason: 'miner link stopped (gave_up)' },
    ]);
  });

  it('answers malformed frames with GenericError, up to the cap, and counts what it suppresses', async () => {
    const r = start();
    for (let i = 0; i < 3; i++) r.emit({ type: 'transport.decode_error', error: { code: 'frame.malformed_json', message: `bad ${i}` } });
    await flush();
    expect(r.sentToMiner()).toEqual(['GenericError', 'GenericError']);
    expect(r.counts.suppressed).toBe(1);
  });
});

describe('executor root: exactly one final message', () => {
  it('closes the link gracefully once the driver finished, and exits with the job’s code', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0JobFailedRequest', job_uuid: JOB, reason: 'timeout', stage: 'execution', message: 'x' } });
    r.driver()!.send({ type: 'fake.finish', output: { outcome: 'job_failed', reason: 'timeout', stage: 'execution' } });
    await flush();
    expect(r.linkRecord.map((e) => e.type)).toEqual(['transport.send', 'transport.close']);
    expect(r.actor.getSnapshot().status).toBe('done');
    expect(r.actor.getSnapshot().output).toMatchObject({
      code: 1,
      outcome: 'job_failed',
      finalMessage: { type: 'V0JobFailedRequest', delivery: 'flushed' },
    });
  });

  it('refuses a second final message from the driver and counts it', async () => {
    const r = start();
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0JobFinishedRequest', job_uuid: JOB, docker_process_stdout: '', docker_process_stderr: '' } });
    r.driver()!.send({ type: 'fake.send', final: false, message: { message_type: 'V0HordeFailedRequest', job_uuid: JOB, reported_by: 'executor', message: 'x', reason: 'generic_error' } });
    await flush();
    expect(r.sentToMiner()).toEqual(['V0JobFinishedRequest']);
    expect(r.counts.refused).toEqual(['V0HordeFailedRequest']);
  });

  it('reports a horde failure for a driver that crashed before reporting, then sweeps and exits 2', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.driver()!.send({ type: 'fake.stage', stage: 'execution' });
    r.driver()!.send({ type: 'fake.crash' });
    await flush();
    const failed = r.linkRecord.find((e) => e.type === 'transport.send')!.message as ExecutorToMinerMessageInput;
    expect(failed).toEqual({
      message_type: 'V0HordeFailedRequest',
      job_uuid: JOB,
      reported_by: 'executor',
      message: 'Unhandled exception',
      reason: 'unhandled_exception',
      context: { stage: 'execution', detail: 'driver bug' },
    });
    expect(r.sweeps).toHaveLength(1);
    expect(r.actor.getSnapshot().output).toMatchObject({ code: 2, outcome: 'horde_failed', reason: 'unhandled_exception', cleanup: r.sweepReport });
  });

  it('sends nothing more for a driver that crashed after its final message, but still sweeps', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0JobFinishedRequest', job_uuid: JOB, docker_process_stdout: '', docker_process_stderr: '' } });
    r.driver()!.send({ type: 'fake.crash' });
    await flush();
    expect(r.sentToMiner()).toEqual(['V0JobFinishedRequest']);
    expect(r.sweeps).toHaveLength(1);
  });
});

describe('executor root: stopping', () => {
  it('passes a stop to the driver and lets it finish', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.actor.send({ type: 'executor.stop', reason: 'SIGTERM' });
    await flush();
    expect(r.driverRecord).toEqual([{ type: 'job.stop', reason: 'SIGTERM' }]);
    r.driver()!.send({ type: 'fake.finish', output: { outcome: 'horde_failed', reason: 'generic_error' } });
    await flush();
    expect(r.sweeps).toHaveLength(0);
    expect(r.actor.getSnapshot().output).toMatchObject({ code: 2 });
  });

  it('stops a driver that does not finish within the shutdown timeout, reports for it and sweeps', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.actor.send({ type: 'executor.stop', reason: 'SIGTERM' });
    await flush();
    r.clock.increment(30_000);
    await flush();
    expect(r.driver()).toBeUndefined();
    expect(r.sweeps).toEqual([30_000]);
    expect(r.linkRecord.find((e) => e.type === 'transport.send')!.message).toMatchObject({
      message_type: 'V0HordeFailedRequest',
      reason: 'generic_error',
      message: 'Executor stopped (SIGTERM): the job driver did not finish within 30000 ms',
    });
    expect(r.actor.getSnapshot().status).toBe('done');
  });
});

describe('executor root: final delivery when the link is down', () => {
  it('waits for a dropped link to come back before closing it, so the queued final message can leave', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.emit({ type: 'transport.closed', code: 1006, reason: '' });
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0HordeFailedRequest', job_uuid: JOB, reported_by: 'executor', message: 'x', reason: 'miner_connection_failed' } });
    r.driver()!.send({ type: 'fake.finish', output: { outcome: 'horde_failed', reason: 'miner_connection_failed' } });
    await flush();
    expect(r.linkRecord.map((e) => e.type)).toEqual(['transport.send']);
    r.clock.increment(2_000);
    r.emit({ type: 'transport.open', reliable: false });
    await flush();
    expect(r.linkRecord.map((e) => e.type)).toEqual(['transport.send', 'transport.close']);
    expect(r.actor.getSnapshot().output).toMatchObject({ code: 2, finalMessage: { delivery: 'flushed' } });
  });

  it('does not wait for a link the miner closed after the final message went out', async () => {
    const r = start();
    r.emit({ type: 'transport.open', reliable: false });
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0JobFinishedRequest', job_uuid: JOB, docker_process_stdout: '', docker_process_stderr: '' } });
    r.emit({ type: 'transport.closed', code: 1000, reason: 'bye' });
    r.driver()!.send({ type: 'fake.finish' });
    await flush();
    expect(r.linkRecord.map((e) => e.type)).toEqual(['transport.send', 'transport.close']);
    expect(r.actor.getSnapshot().status).toBe('done');
  });

  it('gives up on a link that does not come back within the grace', async () => {
    const r = start();
    r.emit({ type: 'transport.closed', code: 1006, reason: '' });
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0HordeFailedRequest', job_uuid: JOB, reported_by: 'executor', message: 'x', reason: 'miner_connection_failed' } });
    r.driver()!.send({ type: 'fake.finish' });
    await flush();
    r.clock.increment(4_999);
    await flush();
    expect(r.linkRecord.map((e) => e.type)).toEqual(['transport.send']);
    r.clock.increment(1);
    await flush();
    expect(r.linkRecord.map((e) => e.type)).toEqual(['transport.send', 'transport.close']);
  });

  it('finishes at once when the link is already gone, counting the final message as undelivered', async () => {
    const r = start();
    r.link().send({ type: 'fake.gone' });
    await flush();
    r.driver()!.send({ type: 'fake.send', final: true, message: { message_type: 'V0HordeFailedRequest', job_uuid: JOB, reported_by: 'executor', message: 'x', reason: 'miner_connection_failed' } });
    r.driver()!.send({ type: 'fake.finish', output: { outcome: 'horde_failed' } });
    await flush();
    expect(r.actor.getSnapshot().status).toBe('done');
    expect(r.counts.undelivered).toContain('V0HordeFailedRequest');
    expect(r.actor.getSnapshot().output).toMatchObject({ finalMessage: { type: 'V0HordeFailedRequest', delivery: 'undelivered' } });
  });
});

describe('executor root with the real driver', () => {
  it('turns SIGTERM mid-execution into one horde failure to the miner, cleanup, and exit code 2', async () => {
    const r = start({ driver: 'real' });
    r.emit({ type: 'transport.open', reliable: false });
    r.emit({ type: 'transport.message', message: decoded(initialJobRequest({ jobUuid: JOB, image: 'img' })) });
    await flush();
    r.emit({ type: 'transport.message', message: decoded(jobRequest({ jobUuid: JOB, image: 'img' })) });
    await flush();
    r.actor.send({ type: 'executor.stop', reason: 'SIGTERM' });
    await flush();
    expect(r.sentToMiner()).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0HordeFailedRequest']);
    expect(r.actor.getSnapshot().output).toMatchObject({ code: 2, outcome: 'horde_failed', stage: 'execution', cleanup: CLEAN_REPORT });
    expect(r.real!.callsOf('cleanup')).toHaveLength(1);
    expect(r.real!.last('runJob').signal.aborted).toBe(true);
  });
});
