/**
 * The validator's organic job actor against a REAL `horde miner` process, its real executor processes and real
 * Docker containers (busybox test image): success with the full status sequence, a failing job, a busy miner, a
 * miner killed mid-job, and a miner nobody listens for. Statuses land in an in-memory StatusSink.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { createActor, toPromise, type AnyActorRef } from 'xstate';
import { organicJobLogic } from '../../../src/actors/validator/organicJob';
import type { JobRoute, ManifestBook, ManifestEntry, OrganicJobOutcome } from '../../../src/actors/validator/types';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import { staticMetagraphProvider, type StaticMetagraphProvider } from '../../../src/metagraph';
import type { V2JobRequest } from '../../../src/protocol';
import { ensureTestImage, removeLabelledContainers } from '../../support/docker';
import { jobRequest, memoryStatusSink, type MemorySink } from '../../support/organicJobHarness';
import { eventually, executorPids, metagraphFile, nothingLeft, removeDir, startMinerProcess, type MinerProcess } from '../miner/minerProcess';

const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
const MINER_KEY = 'horde-organic-it-miner';
let validator: Hotkey;
let minerKey: Hotkey;
let files: { dir: string; path: string };
let metagraph: StaticMetagraphProvider;
const jobs: AnyActorRef[] = [];

/** The manifest book the fetcher would hold: one `always_on.test` executor on every miner. */
const manifests: ManifestBook = {
  get: (hotkey): ManifestEntry => ({ hotkey, manifest: { 'always_on.test': 1 }, fetchedAtMs: Date.now() }),
  freshSince: () => [],
};

beforeAll(async () => {
  await initCrypto();
  await ensureTestImage(docker);
  validator = devHotkey('horde-organic-it-validator');
  minerKey = devHotkey(MINER_KEY);
  files = metagraphFile([{ hotkey: validator.ss58 }]);
  metagraph = staticMetagraphProvider({ validators: [{ hotkey: validator.ss58, stake: 0 }] });
});

afterEach(() => {
  for (const job of jobs.splice(0)) job.stop();
});

afterAll(async () => {
  await metagraph.close();
  removeDir(files.dir);
});

function routeTo(miner: { httpUrl: string } | { port: number }): JobRoute {
  const port = 'port' in miner ? miner.port : Number(new URL(miner.httpUrl).port);
  return { miner: { hotkey: minerKey.ss58, address: '127.0.0.1', port }, trusted: false };
}

function runJob(sink: MemorySink, request: V2JobRequest, route: JobRoute): { actor: AnyActorRef; outcome: Promise<OrganicJobOutcome> } {
  const actor = createActor(organicJobLogic({ validator, sink, manifests, metagraph }), { input: { request, route } });
  jobs.push(actor);
  const outcome = toPromise(actor) as Promise<OrganicJobOutcome>;
  actor.start();
  return { actor, outcome };
}

function testJob(args: string[], overrides: Partial<V2JobRequest> = {}): V2JobRequest {
  return jobRequest({ args, download_time_limit: 30, execution_time_limit: 30, upload_time_limit: 30, ...overrides });
}

describe('organic job against a real horde miner (pool of one)', () => {
  const hordeId = `it-organic-${process.pid}`;
  let miner: MinerProcess;

  beforeAll(async () => {
    miner = await startMinerProcess({
      devKey: MINER_KEY,
      metagraphPath: files.path,
      dataDir: join(files.dir, 'data'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 1}'],
    });
  }, 60_000);

  // Generous: on a cold clone under full CI load an executor's exit and the miner's sweep can take many seconds; a
  // leak never ends, so the bound still catches one.
  afterEach(async () => {
    await nothingLeft(docker, hordeId, 45_000, miner.httpUrl);
  }, 60_000);

  afterAll(async () => {
    expect(await miner.stop('SIGTERM')).toBe(0);
    await nothingLeft(docker, hordeId);
  }, 30_000);

  it('runs a job to completed with the full status sequence and its stdout', async () => {
    const sink = memoryStatusSink();
    const request = testJob(['sh', '-c', 'echo "organic says hi"; echo oops >&2']);
    const { outcome } = runJob(sink, request, routeTo(miner));
    expect(await outcome).toEqual({ jobUuid: request.uuid, minerHotkey: minerKey.ss58, status: 'completed', excused: false, incident: undefined });
    expect(sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed']);
    expect(sink.updates.at(-1)!.metadata?.miner_response).toMatchObject({
      docker_process_stdout: 'organic says hi\n',
      docker_process_stderr: 'oops\n',
    });
    // the miner countersigned and stored our three receipts
    await eventually(async () => {
      const page = Math.floor(Date.now() / 300_000);
      let body = '';
      for (const p of [page - 1, page]) {
        const response = await fetch(`${miner.httpUrl}/receipts/${p}.jsonl`);
        if (response.status === 200) body += await response.text();
      }
      return body.split('\n').filter((line) => line.includes(request.uuid)).length === 3;
    }, 10_000, 'three receipts stored by the miner');
  }, 60_000);

  it('reports failed with the exit status and output when the job exits nonzero', async () => {
    const sink = memoryStatusSink();
    const request = testJob(['sh', '-c', 'echo before; exit 3']);
    const { outcome } = runJob(sink, request, routeTo(miner));
    expect(await outcome).toMatchObject({ status: 'failed', incident: 'job_failed' });
    expect(sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'failed']);
    expect(sink.updates.at(-1)!.metadata?.job_failure_details).toMatchObject({
      reason: 'nonzero_return_code',
      stage: 'execution',
      docker_process_exit_status: 3,
      docker_process_stdout: 'before\n',
    });
  }, 60_000);

  it('is rejected (busy, by the miner) when the only executor is taken, excused by the running job receipt', async () => {
    const sink = memoryStatusSink();
    // Closing the validator's connection does not stop the executor (upstream neither): keep the job short.
    const long = testJob(['sleep', '5']);
    const first = runJob(sink, long, routeTo(miner));
    await eventually(() => sink.updates.some((u) => u.uuid === long.uuid && u.status === 'accepted'), 15_000, 'first job accepted');

    const busySink = memoryStatusSink();
    const second = testJob(['echo', 'never']);
    const { outcome } = runJob(busySink, second, routeTo(miner));
    expect(await outcome).toEqual({ jobUuid: second.uuid, minerHotkey: minerKey.ss58, status: 'rejected', excused: true, incident: undefined });
    expect(busySink.statuses()).toEqual(['rejected']);
    expect(busySink.updates[0]!.metadata?.job_rejection_details).toMatchObject({ rejected_by: 'miner', reason: 'busy', message: 'Miner properly excused job' });

    // Shut the first job down once its container runs (before, its executor would wait for the job request until
    // its own deadline).
    await eventually(() => sink.statuses().includes('volumes_ready'), 20_000, 'first job running');
    first.actor.send({ type: 'supervisor.shutdown' });
    expect(await first.outcome).toMatchObject({ status: 'horde_failed', incident: undefined });
    expect(sink.updates.at(-1)!.metadata?.horde_failure_details).toMatchObject({ reason: 'unhandled_exception', message: 'validator shutting down' });
  }, 60_000);
});

describe('organic job when the miner goes away', () => {
  it('ends horde_failed miner_connection_failed when the miner process is killed mid-job', async () => {
    const hordeId = `it-organic-kill-${process.pid}`;
    const miner = await startMinerProcess({
      devKey: MINER_KEY,
      metagraphPath: files.path,
      dataDir: join(files.dir, 'data-kill'),
      hordeId,
      args: ['--manifest', '{"always_on.test": 1}'],
    });
    try {
      const sink = memoryStatusSink();
      const request = testJob(['sleep', '30']);
      const { outcome } = runJob(sink, request, routeTo(miner));
      await eventually(() => sink.statuses().includes('volumes_ready'), 20_000, 'job running');
      await miner.stop('SIGKILL');
      expect(await outcome).toMatchObject({ status: 'horde_failed', incident: 'connection_failed' });
      expect(sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'horde_failed']);
      expect(sink.updates.at(-1)!.metadata?.horde_failure_details).toMatchObject({ reported_by: 'validator', reason: 'miner_connection_failed' });
    } finally {
      await miner.stop('SIGKILL');
      await eventually(() => executorPids(hordeId).length === 0, 30_000, 'orphaned executors gone');
      // A SIGKILLed miner cannot sweep what its executors leave behind; its next start would. Do it for it.
      await removeLabelledContainers(docker, hordeId);
    }
  }, 90_000);

  it('ends horde_failed miner_connection_failed at once when nothing listens on the miner port', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const sink = memoryStatusSink();
    const request = testJob(['true']);
    const { outcome } = runJob(sink, request, routeTo({ port }));
    expect(await outcome).toMatchObject({ status: 'horde_failed', incident: 'connection_failed' });
    expect(sink.updates).toHaveLength(1);
    expect(sink.updates[0]!.metadata?.horde_failure_details).toMatchObject({ reported_by: 'validator', reason: 'miner_connection_failed' });
    expect(sink.updates[0]!.metadata?.horde_failure_details?.message).toMatch(/Could not connect to the miner at ws:\/\/127\.0\.0\.1:\d+\/v0\.1\/validator_interface\//);
  });
});
