import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { initCrypto, devHotkey } from '../../../src/crypto';
import { validatorToFacilitatorCodec, type JobStatus, type V0JobStatusUpdate } from '../../../src/protocol';
import { OutboxFullError, openValidatorStore, type ValidatorStore } from '../../../src/actors/validator/store';
import { manualClock } from '../../../src/util/clock';
import { signedJobRequest } from '../../support/scriptedFacilitator';

function update(uuid: string, status: JobStatus, extra: Partial<V0JobStatusUpdate> = {}): V0JobStatusUpdate {
  return { message_type: 'V0JobStatusUpdate', uuid, status, metadata: null, ...extra };
}

describe('validator store (durable outbox + jobs)', () => {
  let dir: string;
  let path: string;
  const open: ValidatorStore[] = [];
  const openStore = (options: Parameters<typeof openValidatorStore>[1] = {}): ValidatorStore => {
    const store = openValidatorStore(path, options);
    open.push(store);
    return store;
  };

  beforeAll(() => initCrypto());
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'horde-link-store-'));
    path = join(dir, 'validator.sqlite3');
  });
  afterEach(() => {
    for (const store of open.splice(0)) store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps pending rows across a close and reopen, oldest first', () => {
    const store = openStore();
    store.report(update('job-1', 'received'));
    store.report(update('job-1', 'accepted'));
    store.report(update('job-2', 'received'));
    store.acknowledge(store.pending(1)[0]!.id);
    store.close();

    const reopened = openStore();
    expect(reopened.pendingCount()).toBe(2);
    expect(reopened.pending(10).map((r) => [r.update.uuid, r.update.status])).toEqual([
      ['job-1', 'accepted'],
      ['job-2', 'received'],
    ]);
  });

  it('stores the exact frame the validator->facilitator codec writes', () => {
    const store = openStore();
    const completed = update('job-1', 'completed', {
      metadata: {
        miner_response: { docker_process_stdout: 'héllo\n', docker_process_stderr: '', artifacts: { '/a': 'eA==' }, upload_results: null },
        job_rejection_details: null,
        job_failure_details: null,
        horde_failure_details: null,
        streaming_details: null,
      },
    });
    store.report(completed);
    const [frame] = store.pendingFrames(0, 10);
    expect(frame!.frame).toBe(validatorToFacilitatorCodec.encode(completed));
    expect(store.pending(1)[0]!.update).toEqual(completed);
  });

  it('pages pending frames after a given id, bounded by the limit', () => {
    const store = openStore();
    for (let i = 0; i < 5; i++) store.report(update(`job-${i}`, 'received'));
    const first = store.pendingFrames(0, 2);
    expect(first).toHaveLength(2);
    const next = store.pendingFrames(first[1]!.id, 10);
    expect(next).toHaveLength(3);
    expect(next[0]!.id).toBeGreaterThan(first[1]!.id);
    expect(store.pending(3)).toHaveLength(3);
  });

  it('acknowledge deletes a row once and is idempotent', () => {
    const store = openStore();
    store.report(update('job-1', 'received'));
    const id = store.pending(1)[0]!.id;
    store.acknowledge(id);
    store.acknowledge(id);
    expect(store.pendingCount()).toBe(0);
    expect(store.pending(10)).toEqual([]);
  });

  it('lists jobs without a terminal status as unfinished, surviving a reopen', () => {
    const store = openStore();
    const user = devHotkey('user');
    const a = signedJobRequest({ user, uuid: 'job-a' });
    const b = signedJobRequest({ user, uuid: 'job-b' });
    const c = signedJobRequest({ user, uuid: 'job-c' });
    for (const request of [a, b, c]) expect(store.recordJob(request)).toBe(true);
    store.report(update('job-a', 'received'));
    store.report(update('job-a', 'accepted'));
    store.report(update('job-b', 'received'));
    store.report(update('job-b', 'completed'));
    store.close();

    const reopened = openStore();
    expect(reopened.unfinishedJobs()).toEqual([
      { uuid: 'job-a', lastStatus: 'accepted' },
      { uuid: 'job-c', lastStatus: 'sent' },
    ]);
    expect(reopened.jobStatus('job-b')).toEqual({ lastStatus: 'completed', terminal: true });
  });

  it('never lets a later status un-finish a terminal job', () => {
    const store = openStore();
    store.report(update('job-1', 'horde_failed'));
    store.report(update('job-1', 'received'));
    expect(store.jobStatus('job-1')).toEqual({ lastStatus: 'received', terminal: true });
    expect(store.unfinishedJobs()).toEqual([]);
  });

  it('recordJob returns false for a redelivered uuid', () => {
    const store = openStore();
    const request = signedJobRequest({ user: devHotkey('user') });
    expect(store.recordJob(request)).toBe(true);
    expect(store.recordJob(request)).toBe(false);
    store.close();
    expect(openStore().recordJob(request)).toBe(false);
  });

  it('prunes finished jobs older than the retention at open', () => {
    const clock = manualClock(1_000_000);
    const store = openStore({ clock, jobRetentionMs: 1_000 });
    const request = signedJobRequest({ user: devHotkey('user') });
    store.recordJob(request);
    store.report(update(request.uuid, 'completed'));
    store.close();
    clock.advance(2_000);
    const reopened = openStore({ clock, jobRetentionMs: 1_000 });
    expect(reopened.jobStatus(request.uuid)).toBeUndefined();
    expect(reopened.recordJob(request)).toBe(true);
  });

  it('refuses a status with OutboxFullError when full, counts it, and accepts again after an acknowledge', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const store = openStore({ capacityRows: 2, meter: provider.getMeter('test') });
    store.report(update('job-1', 'received'));
    store.report(update('job-1', 'accepted'));
    expect(() => store.report(update('job-1', 'executor_ready'))).toThrow(OutboxFullError);
    expect(store.pendingCount()).toBe(2);
    store.acknowledge(store.pending(1)[0]!.id);
    store.report(update('job-1', 'executor_ready'));
    expect(store.pending(10).map((r) => r.update.status)).toEqual(['accepted', 'executor_ready']);

    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: { scopeMetrics: Array<{ metrics: Array<{ descriptor: { name: string }; dataPoints: Array<{ value: number }> }> }> } };
    const value = (name: string): number | undefined =>
      resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name)?.dataPoints[0]?.value;
    expect(value('horde_validator_outbox_refused_statuses')).toBe(1);
    expect(value('horde_validator_outbox_pending_rows')).toBe(2);
    await provider.shutdown();
  });

  it('refuses a malformed update before it takes a row', () => {
    const store = openStore();
    expect(() => store.report({ ...update('job-1', 'received'), status: 'bogus' as JobStatus })).toThrow();
    expect(store.pendingCount()).toBe(0);
  });

  it('fails loudly after close', () => {
    const store = openStore();
    store.close();
    expect(() => store.report(update('job-1', 'received'))).toThrow(/closed/);
  });
});
