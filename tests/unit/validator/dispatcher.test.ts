/**
 * The validator's dispatcher against fakes of its seams (store, router, launcher, ledger, availability, busy): what
 * each job.new becomes, which statuses go to the outbox in which order, and what each outcome feeds back.
 */
import { devHotkey, initCrypto, signFullRequestBody } from '../../../src/crypto';
import type { JobStatus, V0JobCheated, V0JobStatusUpdate, V2JobRequest } from '../../../src/protocol';
import {
  createJobDispatcher,
  createOutboxSink,
  RESTARTED_MID_JOB_MESSAGE,
  verifyCheatedReport,
  type JobDispatcherDeps,
  type JobLauncher,
  type OrganicJobInput,
} from '../../../src/actors/validator/dispatcher';
import type {
  BusyTracker,
  IncidentKind,
  JobRouter,
  MinerAvailability,
  OrganicJobOutcome,
  ReliabilityLedger,
  RouteDecision,
} from '../../../src/actors/validator/types';
import { manualClock } from '../../../src/util/clock';

const VALIDATOR = '5ValidatorHotkeyForTests';
const MINER = { hotkey: '5MinerHotkey', address: '127.0.0.1', port: 8000 };

function jobRequest(uuid: string, overrides: Partial<V2JobRequest> = {}): V2JobRequest {
  return {
    signature: null,
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid,
    job_namespace: null,
    executor_class: 'always_on.test',
    docker_image: 'horde-testjob:local',
    args: ['echo', 'hi'],
    env: {},
    use_gpu: false,
    volume: null,
    output_upload: null,
    artifacts_dir: null,
    on_trusted_miner: false,
    download_time_limit: 5,
    execution_time_limit: 5,
    upload_time_limit: 5,
    streaming_start_time_limit: 5,
    streaming_details: null,
    ...overrides,
  };
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets promise callbacks (the launcher's outcome) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function harness(overrides: Partial<JobDispatcherDeps> & { unfinished?: Array<{ uuid: string; lastStatus: JobStatus }> } = {}) {
  const clock = manualClock(1_000_000);
  const written: V0JobStatusUpdate[] = [];
  const events: string[] = [];
  const known = new Set<string>();
  const sink = createOutboxSink({
    writer: {
      report: (update) => {
        written.push(update);
        events.push(`report:${update.status}`);
      },
    },
    kick: () => events.push('kick'),
  });
  const launches: Array<{ input: OrganicJobInput; run: Deferred<OrganicJobOutcome | undefined> }> = [];
  const launcher: JobLauncher = {
    launch(input) {
      const run = deferred<OrganicJobOutcome | undefined>();
      launches.push({ input, run });
      return run.promise;
    },
  };
  let decision: RouteDecision = { ok: true, route: { miner: MINER, trusted: false } };
  const router: JobRouter = { pick: () => decision };
  const incidents: Array<{ hotkey: string; kind: IncidentKind; atMs: number }> = [];
  const ledger: ReliabilityLedger = {
    recordIncident: (hotkey, _class, kind, atMs) => incidents.push({ hotkey, kind, atMs }),
    incidents: () => 0,
  };
  const availabilityLog: string[] = [];
  const availability: MinerAvailability = {
    isAvailable: () => true,
    recordFailure: (hotkey) => availabilityLog.push(`failure:${hotkey}`),
    recordSuccess: (hotkey) => availabilityLog.push(`success:${hotkey}`),
  };
  const busyJobs = new Set<string>();
  const busy: BusyTracker = {
    begin: (uuid) => busyJobs.add(uuid),
    end: (uuid) => busyJobs.delete(uuid),
    busy: () => busyJobs.size,
  };
  const dispatcher = createJobDispatcher({
    validatorHotkey: VALIDATOR,
    whitelist: new Set(),
    store: {
      recordJob: (request) => {
        if (known.has(request.uuid)) return false;
        known.add(request.uuid);
        return true;
      },
      unfinishedJobs: () => overrides.unfinished ?? [],
    },
    sink,
    verify: (request) => (request.job_namespace === 'forged' ? { ok: false, message: 'Bad signature: forged' } : { ok: true }),
    router,
    launcher,
    ledger,
    availability,
    busy,
    clock,
    ...overrides,
  });
  return {
    dispatcher,
    sink,
    written,
    events,
    launches,
    incidents,
    availabilityLog,
    busyJobs,
    clock,
    statuses: (uuid: string) => written.filter((u) => u.uuid === uuid).map((u) => u.status),
    setDecision: (next: RouteDecision) => {
      decision = next;
    },
  };
}

function outcome(jobUuid: string, status: OrganicJobOutcome['status'], incident?: IncidentKind): OrganicJobOutcome {
  return { jobUuid, minerHotkey: MINER.hotkey, status, excused: false, incident };
}

describe('the job dispatcher', () => {
  it('reports received, then starts the organic job actor on the route the router picked', () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    expect(h.statuses('job-1')).toEqual(['received']);
    expect(h.launches).toHaveLength(1);
    expect(h.launches[0]!.input.route.miner).toEqual(MINER);
    expect(h.launches[0]!.input.request.uuid).toBe('job-1');
    expect(h.busyJobs.has('job-1')).toBe(true);
    expect(h.dispatcher.running).toBe(1);
  });

  it('wakes the facilitator link after every status it writes', () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.dispatcher.handleJob(jobRequest('bad', { job_namespace: 'forged' }));
    expect(h.events).toEqual(['report:received', 'kick', 'report:rejected', 'kick']);
  });

  it('ignores a job delivered again (the store already knows its uuid)', () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.dispatcher.handleJob(jobRequest('job-1'));
    expect(h.statuses('job-1')).toEqual(['received']);
    expect(h.launches).toHaveLength(1);
  });

  it('rejects a job with a bad signature as invalid_signature, by the validator, without received', () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('bad', { job_namespace: 'forged' }));
    expect(h.written.map((u) => [u.uuid, u.status])).toEqual([['bad', 'rejected']]);
    expect(h.written[0]!.metadata?.job_rejection_details).toEqual({
      rejected_by: 'validator',
      reason: 'invalid_signature',
      message: 'Bad signature: forged',
      context: null,
    });
    expect(h.launches).toHaveLength(0);
  });

  it('rejects a job no miner can take as no_miner_for_job after received', () => {
    const h = harness();
    h.setDecision({ ok: false, reason: 'no_miner_for_job', message: 'no miner offers always_on.test', skipped: [{ hotkey: 'm', why: 'no_capacity' }] });
    h.dispatcher.handleJob(jobRequest('job-1'));
    expect(h.statuses('job-1')).toEqual(['received', 'rejected']);
    expect(h.written[1]!.metadata?.job_rejection_details).toEqual({
      rejected_by: 'validator',
      reason: 'no_miner_for_job',
      message: 'no miner offers always_on.test',
      context: null,
    });
    expect(h.launches).toHaveLength(0);
  });

  it('turns a throwing router into no_miner_for_job instead of losing the job', () => {
    const h = harness({
      router: {
        pick: () => {
          throw new Error('boom');
        },
      },
    });
    h.dispatcher.handleJob(jobRequest('job-1'));
    expect(h.statuses('job-1')).toEqual(['received', 'rejected']);
    expect(h.written[1]!.metadata?.job_rejection_details?.message).toContain('boom');
  });

  it('refuses a job beyond the concurrency bound as busy, and takes jobs again once one ends', async () => {
    const h = harness({ maxConcurrentJobs: 1 });
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.dispatcher.handleJob(jobRequest('job-2'));
    expect(h.statuses('job-2')).toEqual(['received', 'rejected']);
    expect(h.written.at(-1)!.metadata?.job_rejection_details).toMatchObject({ rejected_by: 'validator', reason: 'busy' });
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'completed', metadata: null });
    h.launches[0]!.run.resolve(outcome('job-1', 'completed'));
    await settle();
    h.dispatcher.handleJob(jobRequest('job-3'));
    expect(h.statuses('job-3')).toEqual(['received']);
    expect(h.launches).toHaveLength(2);
  });

  it('records nothing against a miner that completed, and tells its availability it answered', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'completed', metadata: null });
    h.launches[0]!.run.resolve(outcome('job-1', 'completed'));
    await settle();
    expect(h.incidents).toEqual([]);
    expect(h.availabilityLog).toEqual([`success:${MINER.hotkey}`]);
    expect(h.busyJobs.size).toBe(0);
    expect(h.dispatcher.running).toBe(0);
    expect(h.dispatcher.job('job-1')?.status).toBe('completed');
  });

  it('holds a failed connection against the miner in the ledger and its circuit breaker', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.clock.advance(500);
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'horde_failed', metadata: null });
    h.launches[0]!.run.resolve(outcome('job-1', 'horde_failed', 'connection_failed'));
    await settle();
    expect(h.incidents).toEqual([{ hotkey: MINER.hotkey, kind: 'connection_failed', atMs: 1_000_500 }]);
    expect(h.availabilityLog).toEqual([`failure:${MINER.hotkey}`]);
  });

  it('records a job failure as an incident but not as an unreachable miner', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'failed', metadata: null });
    h.launches[0]!.run.resolve(outcome('job-1', 'failed', 'job_failed'));
    await settle();
    expect(h.incidents.map((i) => i.kind)).toEqual(['job_failed']);
    expect(h.availabilityLog).toEqual([`success:${MINER.hotkey}`]);
  });

  it('reports horde_failed itself when the job actor fails before any terminal status', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.launches[0]!.run.reject(new Error('actor crashed'));
    await settle();
    expect(h.statuses('job-1')).toEqual(['received', 'horde_failed']);
    expect(h.written[1]!.metadata?.horde_failure_details).toMatchObject({
      reported_by: 'validator',
      reason: 'unhandled_exception',
      message: 'job actor failed: actor crashed',
    });
    expect(h.busyJobs.size).toBe(0);
  });

  it('reports horde_failed itself when the job actor was stopped by force before its terminal status', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.launches[0]!.run.resolve(undefined);
    await settle();
    expect(h.statuses('job-1')).toEqual(['received', 'horde_failed']);
  });

  it('adds nothing when a job actor stopped by force had already reported its terminal status', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'horde_failed', metadata: null });
    h.launches[0]!.run.resolve(undefined);
    await settle();
    expect(h.statuses('job-1')).toEqual(['received', 'horde_failed']);
  });

  it('ends every job a previous process left unfinished with horde_failed "validator restarted mid-job"', () => {
    const h = harness({
      unfinished: [
        { uuid: 'old-1', lastStatus: 'accepted' },
        { uuid: 'old-2', lastStatus: 'received' },
      ],
    });
    expect(h.dispatcher.recoverUnfinished()).toBe(2);
    expect(h.written.map((u) => [u.uuid, u.status])).toEqual([
      ['old-1', 'horde_failed'],
      ['old-2', 'horde_failed'],
    ]);
    expect(h.written[0]!.metadata?.horde_failure_details).toMatchObject({
      reported_by: 'validator',
      reason: 'unhandled_exception',
      message: RESTARTED_MID_JOB_MESSAGE,
      context: { last_status: 'accepted' },
    });
  });

  it('rejects jobs that arrive after close() with "validator shutting down", and lets running ones finish', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.dispatcher.close();
    h.dispatcher.handleJob(jobRequest('job-2'));
    expect(h.statuses('job-2')).toEqual(['rejected']);
    expect(h.written.at(-1)!.metadata?.job_rejection_details).toMatchObject({ reason: 'busy', message: 'validator shutting down' });
    let idle = false;
    void h.dispatcher.whenIdle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'horde_failed', metadata: null });
    h.launches[0]!.run.resolve(outcome('job-1', 'horde_failed'));
    await settle();
    expect(idle).toBe(true);
  });

  it('forgets the oldest finished jobs beyond its memory bound', async () => {
    const h = harness({ finishedJobsRemembered: 2 });
    for (const uuid of ['a', 'b', 'c']) {
      h.dispatcher.handleJob(jobRequest(uuid));
      h.launches.at(-1)!.run.resolve(undefined);
      await settle();
    }
    expect(h.dispatcher.job('a')).toBeUndefined();
    expect(h.dispatcher.job('c')?.minerHotkey).toBe(MINER.hotkey);
  });
});

describe('the outbox sink', () => {
  it('frees the job (onTerminal) once its terminal status is written and before the facilitator is woken', () => {
    const events: string[] = [];
    const sink = createOutboxSink({
      writer: { report: (u) => events.push(`write:${u.status}`) },
      kick: () => events.push('kick'),
      onTerminal: (uuid) => events.push(`free:${uuid}`),
    });
    sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'accepted', metadata: null });
    sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'completed', metadata: null });
    sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'failed', metadata: null });
    expect(events).toEqual(['write:accepted', 'kick', 'write:completed', 'free:j', 'kick']);
  });

  it('drops a second terminal status for a job instead of writing it', () => {
    const written: string[] = [];
    const sink = createOutboxSink({ writer: { report: (u) => written.push(u.status) }, kick: () => undefined });
    sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'failed', metadata: null });
    sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'horde_failed', metadata: null });
    expect(written).toEqual(['failed']);
    expect(sink.terminalOf('j')).toBe('failed');
    sink.release('j');
    expect(sink.terminalOf('j')).toBeUndefined();
  });

  it('rethrows a failed write and does not wake the link for it', () => {
    let kicks = 0;
    const sink = createOutboxSink({
      writer: {
        report: () => {
          throw new Error('disk full');
        },
      },
      kick: () => (kicks += 1),
    });
    expect(() => sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'received', metadata: null })).toThrow('disk full');
    expect(kicks).toBe(0);
  });

  it('does not count a failed write as the job having a terminal status', () => {
    const sink = createOutboxSink({
      writer: {
        report: () => {
          throw new Error('disk full');
        },
      },
      kick: () => undefined,
    });
    expect(() => sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'j', status: 'completed', metadata: null })).toThrow();
    expect(sink.terminalOf('j')).toBeUndefined();
  });
});

describe('V0JobCheated', () => {
  beforeAll(async () => {
    await initCrypto();
  });

  function cheated(jobUuid: string, details: V0JobCheated['details'], signedBody?: Record<string, unknown>): V0JobCheated {
    const user = devHotkey('horde-dev-user');
    const body = signedBody ?? { job_uuid: jobUuid, trusted_job_uuid: 'trusted-1', details };
    const signature = signFullRequestBody(user, body as never, { clock: { nowMs: () => 1_700_000_000_000 } });
    return { signature, type: 'job.cheated', message_type: 'V0JobCheated', job_uuid: jobUuid, trusted_job_uuid: 'trusted-1', details };
  }

  it('accepts the SDK FullRequest signature of the body, with or without details', () => {
    expect(verifyCheatedReport(cheated('job-1', { reason: 'different output' }))).toEqual({ ok: true });
    expect(verifyCheatedReport(cheated('job-1', null, { job_uuid: 'job-1', trusted_job_uuid: 'trusted-1' }))).toEqual({ ok: true });
  });

  it('refuses a report whose body was changed after signing, or that has no signature', () => {
    const report = cheated('job-1', null);
    expect(verifyCheatedReport({ ...report, job_uuid: 'job-2' }).ok).toBe(false);
    expect(verifyCheatedReport({ ...report, signature: null }).ok).toBe(false);
  });

  it('records a cheated incident against the miner that ran the job', async () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.sink.report({ message_type: 'V0JobStatusUpdate', uuid: 'job-1', status: 'completed', metadata: null });
    h.launches[0]!.run.resolve(outcome('job-1', 'completed'));
    await settle();
    h.dispatcher.handleCheated(cheated('job-1', { why: 'mismatch' }));
    expect(h.incidents).toEqual([{ hotkey: MINER.hotkey, kind: 'cheated', atMs: 1_000_000 }]);
  });

  it('records nothing for a report with a bad signature or about a job it does not know', () => {
    const h = harness();
    h.dispatcher.handleJob(jobRequest('job-1'));
    h.dispatcher.handleCheated({ ...cheated('job-1', null), trusted_job_uuid: 'other' });
    h.dispatcher.handleCheated(cheated('never-seen', null));
    expect(h.incidents).toEqual([]);
  });
});
