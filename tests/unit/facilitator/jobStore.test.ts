import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobStore } from '../../../src/actors/facilitator/jobStore';
import { CreateJobBody } from '../../../src/sdk/facilitatorApi';
import { manualClock } from '../../../src/util/clock';

const signature = {
  signature_type: 'bittensor',
  signatory: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  timestamp_ns: 1_737_000_000_123_456_789n,
  signature: 'AAAA',
  signature_scope: 'SignedFields' as const,
};

function body(extra: Record<string, unknown> = {}): CreateJobBody {
  const r = CreateJobBody.validate({ executor_class: 'always_on.test', docker_image: 'alpine', args: ['echo', 'hi'], ...extra });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('JobStore', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'horde-fac-store-'));
    path = join(dir, 'db', 'facilitator.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stores a job together with its sent status', () => {
    const clock = manualClock(1_000);
    const store = JobStore.open({ path, clock });
    store.createJob({ uuid: 'j1', owner: 'u', validator: 'v', body: body(), signature });
    const job = store.get('j1')!;
    expect(job.history).toEqual([{ status: 'sent', metadata: null, createdAtMs: 1_000 }]);
    expect(job.signature).toEqual(signature);
    expect(job.body.args).toEqual(['echo', 'hi']);
    store.close();
  });

  it('refuses a second job with the same uuid without touching the first', () => {
    const store = JobStore.open({ path });
    store.createJob({ uuid: 'j1', owner: 'u', validator: 'v', body: body(), signature });
    expect(() => store.createJob({ uuid: 'j1', owner: 'x', validator: 'w', body: body(), signature })).toThrow(/cannot store job j1/);
    expect(store.get('j1')!.owner).toBe('u');
    expect(store.get('j1')!.history).toHaveLength(1);
    store.close();
  });

  it('appends each status once and reports a repeat as duplicate', () => {
    const clock = manualClock(0);
    const store = JobStore.open({ path, clock });
    store.createJob({ uuid: 'j1', owner: 'u', validator: 'v', body: body(), signature });
    clock.advance(5);
    expect(store.appendStatus('j1', 'received', null).kind).toBe('stored');
    expect(store.appendStatus('j1', 'received', null).kind).toBe('duplicate');
    expect(store.appendStatus('j1', 'sent', null).kind).toBe('duplicate');
    expect(store.appendStatus('nope', 'received', null).kind).toBe('not_found');
    const job = store.get('j1')!;
    expect(job.history.map((h) => h.status)).toEqual(['sent', 'received']);
    expect(job.lastUpdateMs).toBe(5);
    store.close();
  });

  it('keeps status metadata, extra fields included', () => {
    const store = JobStore.open({ path });
    store.createJob({ uuid: 'j1', owner: 'u', validator: 'v', body: body(), signature });
    const metadata = {
      miner_response: { docker_process_stdout: 'out', docker_process_stderr: '', artifacts: { '/a/x': 'eA==' }, upload_results: null, extra_thing: 1 },
      job_rejection_details: null,
      job_failure_details: null,
      horde_failure_details: null,
      streaming_details: null,
    };
    store.appendStatus('j1', 'completed', metadata);
    expect(store.get('j1')!.history[1]!.metadata).toEqual(metadata);
    store.close();
  });

  it('lists redelivery candidates: only jobs of that validator that never got past sent, oldest first', () => {
    const clock = manualClock(0);
    const store = JobStore.open({ path, clock });
    for (const [uuid, validator] of [['a', 'v'], ['b', 'v'], ['c', 'w'], ['d', 'v']] as const) {
      store.createJob({ uuid, owner: 'u', validator, body: body(), signature });
      clock.advance(10);
    }
    store.appendStatus('b', 'received', null);
    expect(store.undelivered('v', { limit: 10, minCreatedAtMs: 0 }).map((j) => j.uuid)).toEqual(['a', 'd']);
    expect(store.undelivered('v', { limit: 1, minCreatedAtMs: 0 }).map((j) => j.uuid)).toEqual(['a']);
    expect(store.undelivered('v', { limit: 10, minCreatedAtMs: 5 }).map((j) => j.uuid)).toEqual(['d']);
    store.close();
  });

  it('gives each validator its last job time for least-recently-used routing', () => {
    const clock = manualClock(100);
    const store = JobStore.open({ path, clock });
    store.createJob({ uuid: 'a', owner: 'u', validator: 'v', body: body(), signature });
    clock.advance(50);
    store.createJob({ uuid: 'b', owner: 'u', validator: 'v', body: body(), signature });
    expect(store.lastJobTimes(['v', 'w'])).toEqual(new Map([['v', 150]]));
    store.close();
  });

  it('pages, filters by tag and uuid, and scopes to the owner', () => {
    const store = JobStore.open({ path });
    for (let i = 0; i < 5; i++) store.createJob({ uuid: `j${i}`, owner: 'u', validator: 'v', body: body({ tag: i % 2 === 0 ? 'even' : 'odd' }), signature });
    store.createJob({ uuid: 'other', owner: 'someone-else', validator: 'v', body: body(), signature });
    const page = store.list({ owner: 'u', offset: 0, limit: 2 });
    expect(page.count).toBe(5);
    expect(page.jobs.map((j) => j.uuid)).toEqual(['j4', 'j3']);
    expect(store.list({ owner: 'u', tag: 'even', offset: 0, limit: 10 }).jobs.map((j) => j.uuid)).toEqual(['j4', 'j2', 'j0']);
    expect(store.list({ owner: 'u', uuid: 'j1', offset: 0, limit: 10 }).count).toBe(1);
    expect(store.list({ owner: 'u', uuid: 'other', offset: 0, limit: 10 }).count).toBe(0);
    store.close();
  });

  it('finds everything again after a restart', () => {
    const first = JobStore.open({ path });
    first.createJob({ uuid: 'j1', owner: 'u', validator: 'v', body: body({ volumes: [{ volume_type: 'inline', contents: 'UEsF' }] }), signature });
    first.appendStatus('j1', 'received', null);
    first.close();
    const second = JobStore.open({ path });
    const job = second.get('j1')!;
    expect(job.history.map((h) => h.status)).toEqual(['sent', 'received']);
    expect(job.body.volumes).toEqual([{ volume_type: 'inline', contents: 'UEsF', relative_path: null }]);
    expect(job.signature.timestamp_ns).toBe(1_737_000_000_123_456_789n);
    expect(second.appendStatus('j1', 'received', null).kind).toBe('duplicate');
    second.close();
  });
});
