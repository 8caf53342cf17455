/**
 * The job driver machine on a SimulatedClock with injected effects: upstream's stages and messages, the single
 * extending deadline, the three-way error taxonomy, duplicate/out-of-order handling, and the one-final-message and
 * cleanup guarantees under stop and link loss.
 */
import {
  ContainerStartError,
  ExecutionTimeoutError,
  ImagePullError,
  UploadFailedError,
  VolumeBadZipError,
} from '../../src/actors/executor/errors';
import { driverHarness, type DriverHarness } from '../support/jobDriverHarness';
import { initialJobRequest, jobRequest } from '../support/scriptedMiner';

const JOB = '7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f';
const IMAGE = 'horde-testjob:local';
const running: DriverHarness[] = [];

function harness(options: Parameters<typeof driverHarness>[0] = {}): DriverHarness {
  const h = driverHarness(options);
  running.push(h);
  return h.start();
}

afterEach(() => {
  for (const h of running.splice(0)) h.actor.stop();
});

/** Initial request (leeway 1 s, download 10 s, execution 20 s, upload 10 s) and ready. */
async function toReady(h: DriverHarness, initial: Partial<Parameters<typeof initialJobRequest>[0]> = {}): Promise<void> {
  h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE, ...initial }));
  await h.flush();
}

async function toExecution(h: DriverHarness, job: Partial<Parameters<typeof jobRequest>[0]> = {}): Promise<void> {
  await toReady(h);
  h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE, cmd: ['true'], ...job }));
  await h.flush();
}

describe('job driver: the success path', () => {
  it('sends ready, volumes ready, execution done, specs and one V0JobFinishedRequest, in order', async () => {
    const h = harness();
    await toExecution(h, { artifactsDir: '/artifacts' });
    expect(h.types()).toEqual([
      'V0ExecutorReadyRequest',
      'V0VolumesReadyRequest',
      'V0ExecutionDoneRequest',
      'V0MachineSpecsRequest',
      'V0JobFinishedRequest',
    ]);
    expect(h.finals()).toHaveLength(1);
    expect(h.finals()[0]!.message).toEqual({
      message_type: 'V0JobFinishedRequest',
      job_uuid: JOB,
      docker_process_stdout: 'out',
      docker_process_stderr: 'err',
      artifacts: { '/artifacts/a': 'YQ==' },
      upload_results: {},
    });
    expect(h.status()).toBe('done');
    expect(h.output()).toMatchObject({ outcome: 'completed', reason: 'completed', jobUuid: JOB, finalMessageSent: true });
    expect(h.callsOf('cleanup')).toHaveLength(1);
  });

  it('prepares the temp dir, sweeps stale containers and makes the image present before saying ready', async () => {
    const h = harness({ effects: { ensureImage: 'manual' } });
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.calls.map((c) => c.name).filter((n) => n !== 'collectSpecs')).toEqual(['prepareWorkspace', 'removeStaleContainers', 'ensureImage']);
    expect(h.types()).toEqual([]);
    h.last('ensureImage').resolve({ image: IMAGE, pulled: true });
    await h.flush();
    expect(h.types()).toEqual(['V0ExecutorReadyRequest']);
    expect(h.sent()[0]!.message).toEqual({ message_type: 'V0ExecutorReadyRequest', job_uuid: JOB, executor_token: null });
  });

  it('skips the image step when the initial request names no image, and makes the job’s image present at execution', async () => {
    const h = harness();
    await toReady(h, { image: null });
    expect(h.callsOf('ensureImage')).toHaveLength(0);
    h.deliver(jobRequest({ jobUuid: JOB, image: 'other:1' }));
    await h.flush();
    expect(h.callsOf('runJob')[0]!.input).toMatchObject({ image: 'other:1', ensureImage: true });
  });

  it('does not pull again at execution when the job runs the image prepared at startup', async () => {
    const h = harness();
    await toExecution(h);
    expect(h.callsOf('runJob')[0]!.input).toMatchObject({ image: IMAGE, ensureImage: false, gpu: false });
  });

  it('downloads the initial request’s volume into the temp dir', async () => {
    const volume = { volume_type: 'inline' as const, contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: null };
    const h = harness();
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE, volume }));
    await h.flush();
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.callsOf('downloadVolume')[0]!.input).toMatchObject({ volume, workspace: { root: '/fake/job' } });
  });

  it('gives a nvidia_all job the GPUs only when GPU support is switched on', async () => {
    const h = harness({ settings: { gpuEnabled: true } });
    await toReady(h);
    h.deliver({ ...jobRequest({ jobUuid: JOB, image: IMAGE }), docker_run_options_preset: 'nvidia_all' } as never);
    await h.flush();
    expect(h.callsOf('runJob')[0]!.input).toMatchObject({ gpu: true });
  });

  it('times each stage for the observer, cleanup included', async () => {
    const h = harness();
    await toExecution(h);
    expect(h.stages.map((s) => `${s.stage}:${s.event}`)).toEqual([
      'executor_startup:start',
      'executor_startup:ok',
      'volume_download:start',
      'volume_download:ok',
      'execution:start',
      'execution:ok',
      'result_upload:start',
      'result_upload:ok',
      'cleanup:start',
      'cleanup:ok',
    ]);
    expect(h.finished).toHaveLength(1);
  });
});

describe('job driver: one deadline that each stage extends', () => {
  it('arms leeway + download when it says ready, before the validator can start its own timer', async () => {
    const h = harness();
    await h.advance(700);
    await toReady(h);
    expect(h.actor.getSnapshot().context.deadlineAtMs).toBe(700 + 1_000 + 10_000);
  });

  it('carries unused download time over to execution, then extends by the upload limit', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toReady(h);
    await h.advance(2_000);
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    const readyAt = 0;
    expect(h.actor.getSnapshot().context.deadlineAtMs).toBe(readyAt + 1_000 + 10_000 + 20_000);
    // the container gets its execution limit, not the carried-over time: that stays slack for the report
    expect(h.last('runJob').input).toMatchObject({ deadlineMs: 20_000 });
    await h.advance(5_000);
    h.last('runJob').resolve({ exitCode: 0, stdout: '', stderr: '' });
    await h.flush();
    expect(h.actor.getSnapshot().context.deadlineAtMs).toBe(31_000 + 10_000);
  });

  it('fails with a horde failure when the initial request does not come within the startup budget', async () => {
    const h = harness({ jobUuidHint: JOB });
    await h.advance(4_999);
    expect(h.types()).toEqual([]);
    await h.advance(1);
    expect(h.finals().map((f) => f.message)).toEqual([
      {
        message_type: 'V0HordeFailedRequest',
        job_uuid: JOB,
        reported_by: 'executor',
        message: 'Timed out waiting for initial job details from miner',
        reason: 'generic_error',
        context: { stage: 'executor_startup' },
      },
    ]);
    expect(h.output()).toMatchObject({ outcome: 'horde_failed', stage: 'executor_startup' });
  });

  it('counts the image pull against the startup budget and aborts it at the deadline', async () => {
    const h = harness({ effects: { ensureImage: 'manual' } });
    await h.advance(1_000);
    await toReady(h);
    expect(h.last('ensureImage').input).toEqual({ image: IMAGE, timeoutMs: 4_000 });
    await h.advance(4_000);
    expect(h.last('ensureImage').signal.aborted).toBe(true);
    expect(h.finals()[0]!.message).toMatchObject({ message_type: 'V0HordeFailedRequest', reason: 'generic_error' });
  });

  it('fails the job with timeout in volume_download when the job request does not come in time', async () => {
    const h = harness();
    await toReady(h);
    await h.advance(11_000);
    expect(h.finals()[0]!.message).toMatchObject({
      message_type: 'V0JobFailedRequest',
      reason: 'timeout',
      stage: 'volume_download',
      message: 'Download time exceeded',
    });
    expect(h.output()).toMatchObject({ outcome: 'job_failed', reason: 'timeout' });
  });

  it('aborts a slow download at the deadline and reports the timeout', async () => {
    const h = harness({ effects: { downloadVolume: 'manual' } });
    await toReady(h);
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    await h.advance(11_000);
    expect(h.last('downloadVolume').signal.aborted).toBe(true);
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'timeout', stage: 'volume_download' });
    expect(h.callsOf('runJob')).toHaveLength(0);
  });

  it('kills the container early enough to report before a deadline that leeway and download left tight', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toReady(h);
    await h.advance(10_500);
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    // 500 ms of leeway + download left, + 20 s execution = 20.5 s; the container gets 19.5 s
    expect(h.last('runJob').input).toMatchObject({ deadlineMs: 19_500 });
  });

  it('reports an execution timeout with the output the killed container printed', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    await h.advance(31_000);
    expect(h.state()).toEqual({ active: { execution: 'overtime' } });
    h.last('runJob').reject(new ExecutionTimeoutError(31_000, { stdout: 'partial', stderr: 'e', truncated: { stdout: false, stderr: false } }));
    await h.flush();
    expect(h.finals()[0]!.message).toMatchObject({
      message_type: 'V0JobFailedRequest',
      reason: 'timeout',
      stage: 'execution',
      docker_process_exit_status: null,
      docker_process_stdout: 'partial',
      docker_process_stderr: 'e',
    });
  });

  it('reports the execution timeout without output when the runner does not answer within the kill grace', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    await h.advance(31_000);
    await h.advance(3_000);
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'timeout', stage: 'execution', message: 'Execution time exceeded', docker_process_stdout: null });
    expect(h.last('runJob').signal.aborted).toBe(true);
  });

  it('treats a container that finishes after the deadline as a timeout', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    await h.advance(31_000);
    h.last('runJob').resolve({ exitCode: 0, stdout: 'late', stderr: '' });
    await h.flush();
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'timeout', stage: 'execution', docker_process_exit_status: 0 });
  });

  it('fails the upload stage with timeout when the upload outlives the deadline', async () => {
    const h = harness({ effects: { finishOutputs: 'manual' } });
    await toExecution(h);
    await h.advance(41_000);
    expect(h.last('finishOutputs').signal.aborted).toBe(true);
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'timeout', stage: 'result_upload', message: 'Upload time exceeded' });
  });

  it('runs the legacy single timeout without extensions', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE, timing: null, timeoutSeconds: 7 }));
    await h.flush();
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.actor.getSnapshot().context.deadlineAtMs).toBe(7_000);
    expect(h.last('runJob').input).toMatchObject({ deadlineMs: 7_000 - 1_000 });
  });
});

describe('job driver: failures as upstream classifies them', () => {
  it('reports a non-zero exit with the exit status and output', async () => {
    const h = harness({ effects: { runJob: () => ({ exitCode: 3, stdout: 'o', stderr: 'bad' }) } });
    await toExecution(h);
    expect(h.types()).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0JobFailedRequest']);
    expect(h.finals()[0]!.message).toEqual({
      message_type: 'V0JobFailedRequest',
      job_uuid: JOB,
      message: 'Job container exited with non-zero exit code: 3',
      reason: 'nonzero_return_code',
      stage: 'execution',
      docker_process_exit_status: 3,
      docker_process_stdout: 'o',
      docker_process_stderr: 'bad',
      context: null,
    });
  });

  it('reports a bad zip as download_failed and never runs the container', async () => {
    const h = harness({
      effects: {
        downloadVolume: () => {
          throw new VolumeBadZipError('end of central directory not found');
        },
      },
    });
    await toExecution(h);
    expect(h.finals()[0]!.message).toMatchObject({ message_type: 'V0JobFailedRequest', reason: 'download_failed', stage: 'volume_download' });
    expect(h.callsOf('runJob')).toHaveLength(0);
  });

  it('reports an upload failure with the successful execution’s output', async () => {
    const h = harness({
      effects: {
        finishOutputs: () => {
          throw new UploadFailedError('http://127.0.0.1/up', 'HTTP 500', 3, 500);
        },
      },
    });
    await toExecution(h);
    expect(h.finals()[0]!.message).toMatchObject({
      message_type: 'V0JobFailedRequest',
      reason: 'upload_failed',
      stage: 'result_upload',
      docker_process_exit_status: 0,
      docker_process_stdout: 'out',
    });
  });

  it('reports an image pull failure as a horde failure before ready', async () => {
    const h = harness({
      effects: {
        ensureImage: () => {
          throw new ImagePullError(IMAGE, 'manifest unknown', []);
        },
      },
    });
    await toReady(h);
    expect(h.types()).toEqual(['V0HordeFailedRequest']);
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'generic_error', reported_by: 'executor' });
  });

  it('reports an engine refusing the container as a horde failure', async () => {
    const h = harness({
      effects: {
        runJob: () => {
          throw new ContainerStartError('no such image');
        },
      },
    });
    await toExecution(h);
    expect(h.finals()[0]!.message).toMatchObject({ message_type: 'V0HordeFailedRequest', reason: 'generic_error', context: { stage: 'execution' } });
  });

  it('wraps an unexpected error as unhandled_exception with its type', async () => {
    const h = harness({
      effects: {
        finishOutputs: () => {
          throw new TypeError('x is undefined');
        },
      },
    });
    await toExecution(h);
    expect(h.finals()[0]!.message).toMatchObject({
      message_type: 'V0HordeFailedRequest',
      reason: 'unhandled_exception',
      context: { exception_type: 'TypeError', stage: 'result_upload' },
    });
  });

  it('refuses a volume sent in both the initial and the job request, as upstream', async () => {
    const volume = { volume_type: 'inline' as const, contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: null };
    const h = harness();
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE, volume }));
    await h.flush();
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE, volume }));
    await h.flush();
    expect(h.finals()[0]!.message).toMatchObject({ message_type: 'V0HordeFailedRequest', message: 'Received multiple volumes', reason: 'generic_error' });
    expect(h.callsOf('downloadVolume')).toHaveLength(0);
  });

  it('fails a streaming job cleanly with streaming_failed', async () => {
    const h = harness();
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE, streaming: true }));
    await h.flush();
    expect(h.types()).toEqual(['V0HordeFailedRequest']);
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'streaming_failed', job_uuid: JOB });
    expect(h.callsOf('prepareWorkspace')).toHaveLength(0);
    expect(h.callsOf('cleanup')).toHaveLength(1);
  });

  it('fails an initial request that carries no timing', async () => {
    const h = harness();
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE, timing: null, timeoutSeconds: null }));
    await h.flush();
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'generic_error', message: 'No timing received: either timeout_seconds or timing_details must be set' });
  });

  it('refuses a raw_script job (not supported) instead of running the image’s default command', async () => {
    const h = harness();
    await toExecution(h, { rawScript: 'print(1)', cmd: [] });
    expect(h.finals()[0]!.message).toMatchObject({
      message_type: 'V0HordeFailedRequest',
      message: 'raw_script jobs are not supported by this executor',
      context: { stage: 'volume_download' },
    });
    expect(h.callsOf('runJob')).toHaveLength(0);
  });
});

describe('job driver: duplicate and out-of-order messages', () => {
  it('answers a job request before the initial request with GenericError and keeps waiting', async () => {
    const h = harness();
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.sent()).toEqual([
      { message: { message_type: 'GenericError', details: `Received job request before an initial job request job_uuid=${JOB}` }, final: false },
    ]);
    await toExecution(h);
    expect(h.output()).toMatchObject({ outcome: 'completed' });
  });

  it('answers a duplicate initial request with GenericError and carries on', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    h.deliver(initialJobRequest({ jobUuid: 'other', image: IMAGE }));
    await h.flush();
    expect(h.sent().at(-1)).toEqual({
      message: { message_type: 'GenericError', details: `Received duplicate initial job request: first job_uuid=${JOB} and then job_uuid=other` },
      final: false,
    });
    h.last('runJob').resolve({ exitCode: 0, stdout: '', stderr: '' });
    await h.flush();
    expect(h.output()).toMatchObject({ outcome: 'completed' });
    expect(h.callsOf('prepareWorkspace')).toHaveLength(1);
  });

  it('answers a duplicate job request with GenericError without running the job twice', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.types().at(-1)).toBe('GenericError');
    expect(h.callsOf('runJob')).toHaveLength(1);
  });

  it('keeps a job request that arrives while preparing and starts it once ready', async () => {
    const h = harness({ effects: { ensureImage: 'manual' } });
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.types()).toEqual([]);
    h.last('ensureImage').resolve({ image: IMAGE, pulled: false });
    await h.flush();
    expect(h.types()).toEqual(['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0ExecutionDoneRequest', 'V0MachineSpecsRequest', 'V0JobFinishedRequest']);
  });

  it('answers a GenericError from the miner as unsupported, as upstream’s client does', async () => {
    const h = harness();
    h.deliver({ message_type: 'GenericError', details: 'hello' });
    await h.flush();
    expect(h.sent()).toEqual([{ message: { message_type: 'GenericError', details: 'Unsupported message from miner: GenericError("hello")' }, final: false }]);
  });

  it('still answers duplicates after the job ended, and sends no second final message', async () => {
    const h = harness({ effects: { cleanup: 'manual' } });
    await toExecution(h);
    h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE }));
    h.deliver(initialJobRequest({ jobUuid: JOB, image: IMAGE }));
    await h.flush();
    expect(h.types().slice(-2)).toEqual(['GenericError', 'GenericError']);
    expect(h.finals()).toHaveLength(1);
  });
});

describe('job driver: stop and link loss still report once and clean up', () => {
  it('on stop mid-execution aborts the container, reports a horde failure and cleans up once', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    h.actor.send({ type: 'job.stop', reason: 'SIGTERM' });
    await h.flush();
    expect(h.last('runJob').signal.aborted).toBe(true);
    expect(h.finals().map((f) => f.message)).toEqual([
      {
        message_type: 'V0HordeFailedRequest',
        job_uuid: JOB,
        reported_by: 'executor',
        message: 'Executor stopped (SIGTERM) during execution',
        reason: 'generic_error',
        context: { stage: 'execution', signal: 'SIGTERM' },
      },
    ]);
    expect(h.callsOf('cleanup')).toHaveLength(1);
    expect(h.stages.find((s) => s.stage === 'execution' && s.event !== 'start')?.event).toBe('aborted');
  });

  it('ignores a stop during cleanup: cleanup finishes and nothing more is sent', async () => {
    const h = harness({ effects: { cleanup: 'manual' } });
    await toExecution(h);
    h.actor.send({ type: 'job.stop', reason: 'SIGTERM' });
    await h.flush();
    expect(h.last('cleanup').signal.aborted).toBe(false);
    h.last('cleanup').resolve({ containersRemoved: 0, tempDir: 'removed', problems: [] });
    await h.flush();
    expect(h.finals()).toHaveLength(1);
    expect(h.output()).toMatchObject({ outcome: 'completed' });
  });

  it('rides out a link drop before the initial request (the transport reconnects)', async () => {
    const h = harness();
    h.actor.send({ type: 'job.miner.link_lost', code: 1006, reason: '' });
    await h.flush();
    expect(h.types()).toEqual([]);
    await toExecution(h);
    expect(h.output()).toMatchObject({ outcome: 'completed' });
  });

  it('fails with miner_connection_failed when the link drops once the job started, aborting the container', async () => {
    const h = harness({ effects: { runJob: 'manual' } });
    await toExecution(h);
    h.actor.send({ type: 'job.miner.link_lost', code: 1006, reason: '' });
    await h.flush();
    expect(h.last('runJob').signal.aborted).toBe(true);
    expect(h.finals()[0]!.message).toMatchObject({ message_type: 'V0HordeFailedRequest', reason: 'miner_connection_failed', context: { stage: 'execution' } });
    expect(h.callsOf('cleanup')).toHaveLength(1);
  });

  it('fails when the link is gone for good, even before the initial request', async () => {
    const h = harness({ jobUuidHint: JOB });
    h.actor.send({ type: 'job.miner.link_gone', reason: 'gave up' });
    await h.flush();
    expect(h.finals()[0]!.message).toMatchObject({ reason: 'miner_connection_failed', job_uuid: JOB });
  });

  it('cannot report a failure without any job uuid, and says so in its output', async () => {
    const h = harness({ jobUuidHint: null });
    await h.advance(5_000);
    expect(h.sent()).toEqual([]);
    expect(h.output()).toMatchObject({ outcome: 'horde_failed', finalMessageSent: false, jobUuid: undefined });
  });

  it('finishes when cleanup hangs, reporting the cleanup as failed', async () => {
    const h = harness({ effects: { cleanup: 'manual' } });
    await toExecution(h);
    await h.advance(30_000);
    expect(h.status()).toBe('done');
    expect(h.output()?.cleanup).toEqual({ containersRemoved: 0, tempDir: 'failed', problems: ['cleanup did not finish within 30000 ms'] });
    expect(h.last('cleanup').signal.aborted).toBe(true);
  });

  it('passes the temp dir to cleanup and tells the parent about it', async () => {
    const h = harness();
    await toExecution(h);
    expect(h.last('cleanup').input).toMatchObject({ jobUuid: JOB, workspace: { root: '/fake/job' } });
    expect(h.emitted.filter((e) => e.type === 'job.workspace')).toEqual([{ type: 'job.workspace', root: '/fake/job' }]);
  });
});
