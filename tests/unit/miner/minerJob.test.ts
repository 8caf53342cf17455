import { createActor, fromCallback, type AnyActorRef, type EventObject } from 'xstate';
import type { ConnectionHandle } from '../../../src/transport/acceptor/connection.types';
import { minerJobMachine, type JobReservation, type MinerJobInput, type MinerJobObserver, type MinerJobTimings } from '../../../src/machines/minerJob.machine';
import type { V0InitialJobRequest, V0JobRequest } from '../../../src/protocol';
import { simulatedTime } from './fakes';

const JOB = '7d0f4c2e-0000-4000-8000-000000000001';
const VALIDATOR = '5GbVPzNr7ANGAWbDPL9KxB6DVZ26TDCKz2vuCQ1MSMaBagvq';
const MINER = '5FnaLnMQh6CD11QWFgekhqN7muSkfCnWvyLLx6XgXN67UvZW';

const TIMINGS: MinerJobTimings = {
  executorConnectTimeoutMs: 8_000,
  waitingForPayloadStaleMs: 600_000,
  activeStaleMs: 86_400_000,
  undeliveredResultTtlMs: 300_000,
  detachedOutboxCapacity: 2,
  maxExcuseReceipts: 10,
};

function initialRequest(overrides: Partial<V0InitialJobRequest> = {}): V0InitialJobRequest {
  return {
    message_type: 'V0InitialJobRequest',
    job_uuid: JOB,
    executor_class: 'always_on.test',
    docker_image: null,
    timeout_seconds: null,
    volume: null,
    job_started_receipt_payload: {
      job_uuid: JOB,
      miner_hotkey: MINER,
      validator_hotkey: VALIDATOR,
      timestamp: '2023-11-14T22:13:20Z',
      receipt_type: 'JobStartedReceipt',
      executor_class: 'always_on.test',
      is_organic: true,
      ttl: 7,
    },
    job_started_receipt_signature: '0xabc',
    streaming_details: null,
    executor_timing: null,
    ...overrides,
  };
}

function jobRequest(overrides: Partial<V0JobRequest> = {}): V0JobRequest {
  return {
    message_type: 'V0JobRequest',
    job_uuid: JOB,
    executor_class: 'always_on.test',
    docker_image: 'horde-testjob:local',
    raw_script: null,
    docker_run_options_preset: 'none',
    docker_run_cmd: ['echo', 'hi'],
    env: {},
    volume: null,
    output_upload: null,
    artifacts_dir: null,
    ...overrides,
  };
}

/** Every event sent to a named recorder, in one global order. */
interface Sent {
  readonly to: string;
  readonly event: EventObject & Record<string, unknown>;
}

const started: AnyActorRef[] = [];
afterEach(() => {
  for (const actor of started.splice(0)) actor.stop();
});

function setup(
  options: { pool?: boolean; request?: V0InitialJobRequest; reservation?: JobReservation; waitedMs?: number; acceptSent?: boolean } = {},
) {
  const { sim, clock } = simulatedTime(1_700_000_000_000);
  const sent: Sent[] = [];
  const named = (name: string): AnyActorRef => {
    const ref = createActor(
      fromCallback<EventObject>(({ receive }) => {
        receive((event) => void sent.push({ to: name, event: event }));
      }),
    ).start();
    started.push(ref);
    return ref;
  };
  const pool = named('pool');
  const store = named('store');
  const validatorConnection = named('validator-1') as ConnectionHandle<never>;
  const outcomes: string[] = [];
  const reservations: Array<{ outcome: string; latencyMs: number }> = [];
  const observer: MinerJobObserver = {
    reservation: (outcome, latencyMs) => reservations.push({ outcome, latencyMs }),
    ended: (outcome) => outcomes.push(outcome),
    dropped: () => undefined,
    log: () => undefined,
  };
  const input: MinerJobInput = {
    jobUuid: JOB,
    token: `${JOB}-token`,
    validatorHotkey: VALIDATOR,
    initialRequest: options.request ?? initialRequest(),
    session: { sessionId: 'validator-1', connection: validatorConnection as never },
    receivedAtMs: clock.nowMs() - (options.waitedMs ?? 0),
    timings: TIMINGS,
    pool: options.pool === false ? undefined : pool,
    reservation: options.reservation ?? (options.pool === false ? 'unknown_class' : 'reserved'),
    ...(options.acceptSent === undefined ? {} : { acceptSent: options.acceptSent }),
    receiptStore: store,
    signStreamingReady: (f) => `sig(${f.job_uuid}:${f.ip}:${f.port}:${f.public_key})`,
    clock,
    observer,
  };
  const job = createActor(minerJobMachine, { input, clock: sim }).start();
  started.push(job);
  const to = (name: string) => sent.filter((s) => s.to === name).map((s) => s.event);
  const messagesTo = (name: string) =>
    to(name)
      .filter((e) => e.type === 'connection.send')
      .map((e) => e['message'] as Record<string, unknown>);
  const executor = named('executor') as ConnectionHandle<never>;
  const connectExecutor = () =>
    job.send({ type: 'job.executor.connected', connection: executor as never, peerAddress: '10.0.0.9', realIp: undefined });
  const fromExecutor = (message: Record<string, unknown>) => job.send({ type: 'job.executor.message', message } as never);
  return { job, sim, sent, to, messagesTo, input, connectExecutor, fromExecutor, outcomes, reservations, named };
}

const state = (job: AnyActorRef) => JSON.stringify((job.getSnapshot() as { value: unknown }).value);

describe('miner job: reservation', () => {
  it('hands the JobStarted receipt to the store before it answers the validator', () => {
    const t = setup();
    expect(t.sent.map((s) => `${s.to}:${s.event.type}`)).toEqual(['store:receipts.submit', 'validator-1:connection.send']);
    expect(t.to('store')[0]).toMatchObject({
      payload: { job_uuid: JOB, receipt_type: 'JobStartedReceipt' },
      validatorSignature: '0xabc',
      expectedValidatorHotkey: VALIDATOR,
    });
  });

  it('accepts at once when its slot was reserved, and records the reservation latency', () => {
    const t = setup({ waitedMs: 3 });
    expect(t.messagesTo('validator-1')).toEqual([{ message_type: 'V0AcceptJobRequest', job_uuid: JOB }]);
    expect(t.reservations).toEqual([{ outcome: 'reserved', latencyMs: 3 }]);
    expect(state(t.job)).toBe('{"active":"awaitingExecutor"}');
  });

  it('starts active without a second receipt or accept when the miner already accepted for it', () => {
    const t = setup({ acceptSent: true });
    expect(t.sent).toEqual([]);
    expect(t.reservations).toEqual([]);
    expect(state(t.job)).toBe('{"active":"awaitingExecutor"}');
    t.connectExecutor();
    expect(t.to('executor')[0]).toMatchObject({ type: 'connection.send', message: { message_type: 'V0InitialJobRequest' } });
  });

  it('still declines busy (receipt, then excuses) when told the accept was sent but no slot was reserved', () => {
    const t = setup({ acceptSent: true, reservation: 'busy' });
    expect(t.sent.map((s) => `${s.to}:${s.event.type}`)).toEqual(['store:receipts.submit', 'store:receipts.find_excuses']);
    expect(state(t.job)).toBe('"declining"');
  });

  it('declines busy with the excuse receipts the store finds, queried at the request receipt time', () => {
    const t = setup({ reservation: 'busy' });
    expect(t.reservations).toEqual([{ outcome: 'busy', latencyMs: 0 }]);
    const query = t.to('store').find((e) => e.type === 'receipts.find_excuses')!;
    expect(query['query']).toEqual({ executorClass: 'always_on.test', atMs: 1_700_000_000_000, excludeJobUuid: JOB, limit: 10 });
    const excuse = { payload: { job_uuid: 'other' }, validator_signature: '0x1', miner_signature: '0x2' };
    t.job.send({ type: 'receipts.excuses', jobUuid: JOB, receipts: [excuse] } as never);
    expect(t.messagesTo('validator-1')).toEqual([
      { message_type: 'V0DeclineJobRequest', job_uuid: JOB, message: '', reason: 'busy', receipts: [excuse], context: null },
    ]);
    expect(t.job.getSnapshot().status).toBe('done');
    expect(t.outcomes).toEqual(['rejected']);
  });

  it('declines busy when the manifest has no pool for the class', () => {
    const t = setup({ pool: false });
    expect(t.to('pool')).toEqual([]);
    expect(t.reservations[0]?.outcome).toBe('unknown_class');
    t.job.send({ type: 'receipts.excuses', jobUuid: JOB, receipts: [] } as never);
    expect(t.messagesTo('validator-1')[0]).toMatchObject({ message_type: 'V0DeclineJobRequest', reason: 'busy' });
  });
});

describe('miner job: executor bridge', () => {
  it('sends the initial request to the executor when it connects, with the streaming address filled in', () => {
    const t = setup({ request: initialRequest({ streaming_details: { public_key: 'PEM', executor_ip: null } }) });
    t.job.send({ type: 'job.executor.started', token: t.input.token, publicAddress: undefined });
    t.job.send({ type: 'job.executor.connected', connection: t.named('exec') as never, peerAddress: '10.0.0.9', realIp: '203.0.113.5' });
    const sent = t.messagesTo('exec');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ message_type: 'V0InitialJobRequest', streaming_details: { public_key: 'PEM', executor_ip: '203.0.113.5' } });
  });

  it('relays the run to the validator, token stripped, and ends on the final message', () => {
    const t = setup();
    t.connectExecutor();
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: 'secret' });
    expect(state(t.job)).toBe('{"active":"waitingForPayload"}');
    t.job.send({ type: 'job.validator.message', message: jobRequest(), from: { sessionId: 'validator-1', connection: null as never } });
    expect(state(t.job)).toBe('{"active":"running"}');
    t.fromExecutor({ message_type: 'V0VolumesReadyRequest', job_uuid: JOB });
    t.fromExecutor({ message_type: 'V0ExecutionDoneRequest', job_uuid: JOB });
    t.fromExecutor({
      message_type: 'V0JobFinishedRequest',
      job_uuid: JOB,
      docker_process_stdout: 'hi\n',
      docker_process_stderr: '',
      artifacts: null,
      upload_results: null,
    });
    expect(t.messagesTo('validator-1').map((m) => m['message_type'])).toEqual([
      'V0AcceptJobRequest',
      'V0ExecutorReadyRequest',
      'V0VolumesReadyRequest',
      'V0ExecutionDoneRequest',
      'V0JobFinishedRequest',
    ]);
    expect(t.messagesTo('validator-1')[1]).toEqual({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    expect(t.messagesTo('executor').map((m) => m['message_type'])).toEqual(['V0InitialJobRequest', 'V0JobRequest']);
    expect(t.to('pool').map((e) => e.type)).toEqual(['pool.job_over']);
    expect(t.job.getSnapshot().status).toBe('done');
    expect(t.outcomes).toEqual(['finished']);
  });

  it('fails the job with executor_disconnected at once when the executor drops mid-job', () => {
    const t = setup();
    t.connectExecutor();
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    t.job.send({ type: 'job.validator.message', message: jobRequest(), from: { sessionId: 'validator-1', connection: null as never } });
    t.job.send({ type: 'job.executor.disconnected', code: 1006, reason: '' });
    expect(t.messagesTo('validator-1').at(-1)).toEqual({
      message_type: 'V0HordeFailedRequest',
      job_uuid: JOB,
      reported_by: 'miner',
      message: 'Executor disconnected while job was running (code: 1006)',
      reason: 'executor_disconnected',
      context: null,
    });
    expect(t.outcomes).toEqual(['horde_failed']);
  });

  it('reports executor_spinup_failed when the executor exits before it connects', () => {
    const t = setup();
    t.job.send({ type: 'job.executor.exited', token: t.input.token, exit: { code: 1, signal: null }, end: 'exited' });
    expect(t.messagesTo('validator-1').at(-1)).toMatchObject({ message_type: 'V0HordeFailedRequest', reason: 'executor_spinup_failed' });
  });

  it('reports executor_spinup_failed when the backend could not start the executor', () => {
    const t = setup();
    t.job.send({ type: 'job.executor.spinup_failed', token: t.input.token, message: 'no such image' });
    expect(t.messagesTo('validator-1').at(-1)).toMatchObject({
      message_type: 'V0HordeFailedRequest',
      reason: 'executor_spinup_failed',
      message: 'Executor failed to start: no such image',
    });
  });

  it('fails the job when the executor has not connected within spin-up plus startup time', () => {
    const t = setup();
    t.sim.increment(TIMINGS.executorConnectTimeoutMs - 1);
    expect(state(t.job)).toBe('{"active":"awaitingExecutor"}');
    t.sim.increment(1);
    expect(t.messagesTo('validator-1').at(-1)).toMatchObject({ reason: 'executor_spinup_failed' });
    expect(t.to('pool').at(-1)?.type).toBe('pool.job_over');
  });

  it("turns the executor's GenericError into a horde failure reported by the executor", () => {
    const t = setup();
    t.connectExecutor();
    t.fromExecutor({ message_type: 'GenericError', details: 'docker is gone' });
    expect(t.messagesTo('validator-1').at(-1)).toEqual({
      message_type: 'V0HordeFailedRequest',
      job_uuid: JOB,
      reported_by: 'executor',
      message: 'docker is gone',
      reason: 'generic_error',
      context: null,
    });
  });

  it('forwards a job request that came before the executor connected right after the initial request', () => {
    const t = setup();
    t.job.send({ type: 'job.validator.message', message: jobRequest(), from: { sessionId: 'validator-1', connection: null as never } });
    t.connectExecutor();
    expect(t.messagesTo('executor').map((m) => m['message_type'])).toEqual(['V0InitialJobRequest', 'V0JobRequest']);
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    expect(state(t.job)).toBe('{"active":"running"}');
  });

  it('answers a volume sent twice with GenericError and does not forward it', () => {
    const volume = { volume_type: 'inline', contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: null } as const;
    const t = setup({ request: initialRequest({ volume }) });
    t.connectExecutor();
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    const reply = t.named('reply');
    t.job.send({ type: 'job.validator.message', message: jobRequest({ volume }), from: { sessionId: 'x', connection: reply as never } });
    expect(t.messagesTo('reply')).toEqual([{ message_type: 'GenericError', details: `Received job volume twice job_uuid: ${JOB}` }]);
    expect(t.messagesTo('executor').map((m) => m['message_type'])).toEqual(['V0InitialJobRequest']);
  });
});

describe('miner job: validator reconnects and stale jobs', () => {
  it('gives a validator that reconnects mid-job its job back: ready re-sent, buffered messages flushed', () => {
    const t = setup();
    t.connectExecutor();
    t.job.send({ type: 'job.validator.detached', sessionId: 'validator-1' });
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    t.job.send({ type: 'job.validator.attached', link: { sessionId: 'validator-2', connection: t.named('validator-2') as never } });
    expect(t.messagesTo('validator-2')).toEqual([{ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null }]);
    t.job.send({ type: 'job.validator.message', message: jobRequest(), from: { sessionId: 'validator-2', connection: null as never } });
    t.job.send({ type: 'job.validator.detached', sessionId: 'validator-2' });
    t.fromExecutor({ message_type: 'V0VolumesReadyRequest', job_uuid: JOB });
    t.fromExecutor({ message_type: 'V0ExecutionDoneRequest', job_uuid: JOB });
    t.fromExecutor({ message_type: 'V0JobFailedRequest', job_uuid: JOB, message: 'exit 1', reason: 'nonzero_return_code', stage: 'execution' });
    expect(t.job.getSnapshot().status).toBe('active');
    t.job.send({ type: 'job.validator.attached', link: { sessionId: 'validator-3', connection: t.named('validator-3') as never } });
    expect(t.messagesTo('validator-3').map((m) => m['message_type'])).toEqual([
      'V0VolumesReadyRequest',
      'V0ExecutionDoneRequest',
      'V0JobFailedRequest',
    ]);
    expect(t.job.getSnapshot().status).toBe('done');
  });

  it('keeps only the newest non-final messages while detached, and counts what it drops', () => {
    const t = setup();
    const dropped: string[] = [];
    (t.input.observer as { dropped: (q: string) => void }).dropped = (q) => dropped.push(q);
    t.connectExecutor();
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    t.job.send({ type: 'job.validator.message', message: jobRequest(), from: { sessionId: 'validator-1', connection: null as never } });
    t.job.send({ type: 'job.validator.detached', sessionId: 'validator-1' });
    for (const type of ['V0VolumesReadyRequest', 'V0ExecutionDoneRequest', 'V0MachineSpecsRequest']) {
      t.fromExecutor({ message_type: type, job_uuid: JOB, specs: { specs: {} } });
    }
    t.job.send({ type: 'job.validator.attached', link: { sessionId: 'v2', connection: t.named('v2') as never } });
    expect(t.messagesTo('v2').map((m) => m['message_type'])).toEqual(['V0ExecutionDoneRequest', 'V0MachineSpecsRequest']);
    expect(dropped).toEqual(['detached_outbox']);
  });

  it('fails a job that has waited 10 minutes for its payload and releases its executor', () => {
    const t = setup();
    t.connectExecutor();
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    t.sim.increment(TIMINGS.waitingForPayloadStaleMs);
    expect(t.job.getSnapshot().status).toBe('done');
    expect(t.outcomes).toEqual(['stale']);
    expect(t.to('pool').at(-1)?.type).toBe('pool.job_over');
  });

  it('fails a running job after a day without a status change', () => {
    const t = setup();
    t.connectExecutor();
    t.fromExecutor({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
    t.job.send({ type: 'job.validator.message', message: jobRequest(), from: { sessionId: 'validator-1', connection: null as never } });
    t.sim.increment(TIMINGS.waitingForPayloadStaleMs);
    expect(t.job.getSnapshot().status).toBe('active');
    t.sim.increment(TIMINGS.activeStaleMs);
    expect(t.outcomes).toEqual(['stale']);
  });

  it('gives up on an undelivered final message after its TTL', () => {
    const t = setup();
    t.job.send({ type: 'job.validator.detached', sessionId: 'validator-1' });
    t.job.send({ type: 'job.executor.spinup_failed', token: t.input.token, message: 'x' });
    expect(t.job.getSnapshot().status).toBe('active');
    t.sim.increment(TIMINGS.undeliveredResultTtlMs);
    expect(t.job.getSnapshot().status).toBe('done');
  });
});
