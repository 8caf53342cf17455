/**
 * The validator's organic job machine on a SimulatedClock with a fake miner link: every path ends with exactly one
 * terminal status, the JobFinished receipt when the socket is up, and a closed link.
 */
import { devHotkey, initCrypto, verifyValidatorReceiptSignature, type Hotkey, type ReceiptPayload } from '../../../src/crypto';
import { JOB_STATUS_END_STATES, type ExecutorClass, type JobStatus } from '../../../src/protocol';
import { miner, startOrganicJob, type Harness, type HarnessOptions } from '../../support/organicJobHarness';

let validator: Hotkey;
let minerKey: Hotkey;
const running: Harness[] = [];

beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('organic-validator');
  minerKey = devHotkey('organic-miner');
});

afterEach(() => {
  for (const h of running.splice(0)) h.actor.stop();
});

function start(options: Partial<HarnessOptions> = {}): Harness {
  const h = startOrganicJob({ validator, miner: minerKey, ...options });
  running.push(h);
  return h;
}

/** Drives a job to `executor_ready` (V0JobRequest sent). */
function toRunning(h: Harness): void {
  h.connected();
  h.fromMiner(miner.accept(h.request.uuid));
  h.fromMiner(miner.ready(h.request.uuid));
}

function terminalStatuses(h: Harness): JobStatus[] {
  return h.sink.updates.map((u) => u.status).filter((s) => JOB_STATUS_END_STATES.has(s));
}

function finishedReceipt(h: Harness): { score_str: string; block_numbers: number[]; time_took_us: number } {
  const message = h.sent('V0JobFinishedReceiptRequest') as unknown as { payload: ReceiptPayload & { score_str: string; block_numbers: number[]; time_took_us: number }; signature: string };
  expect(verifyValidatorReceiptSignature(message.payload, message.signature)).toBe(true);
  return message.payload;
}

describe('organic job machine: success', () => {
  it('reports accepted → executor_ready → volumes_ready → execution_done → completed with the miner response, in order', () => {
    const h = start();
    const uuid = h.request.uuid;
    expect(h.linkInputs[0]!.url).toBe(`ws://127.0.0.1:1/v0.1/validator_interface/${validator.ss58}`);
    expect(h.sentTypes()).toEqual([]);
    h.connected();
    expect(h.sentTypes()).toEqual(['ValidatorAuthForMiner', 'V0InitialJobRequest']);
    const initial = h.sent('V0InitialJobRequest');
    expect(initial).toMatchObject({
      job_uuid: uuid,
      executor_class: 'always_on.test',
      docker_image: 'horde-testjob:local',
      volume: null,
      executor_timing: { allowed_leeway: 5, download_time_limit: 10, execution_time_limit: 30, upload_time_limit: 10, streaming_start_time_limit: 5 },
      job_started_receipt_payload: { receipt_type: 'JobStartedReceipt', is_organic: true, ttl: 7, miner_hotkey: minerKey.ss58, validator_hotkey: validator.ss58 },
    });
    h.fromMiner(miner.accept(uuid));
    expect(h.sentTypes().at(-1)).toBe('V0JobAcceptedReceiptRequest');
    h.fromMiner(miner.ready(uuid));
    expect(h.sent('V0JobRequest')).toMatchObject({ docker_run_cmd: ['sh', '-c', 'echo hi'], volume: null, docker_run_options_preset: 'none' });
    h.fromMiner(miner.volumes(uuid));
    h.fromMiner(miner.done(uuid));
    h.advance(1_500);
    h.fromMiner(miner.finished(uuid, 'hello\n'));

    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed']);
    expect(h.sink.updates.slice(0, 4).every((u) => u.metadata === null)).toBe(true);
    expect(h.sink.updates[4]!.metadata?.miner_response).toEqual({
      docker_process_stdout: 'hello\n',
      docker_process_stderr: '',
      artifacts: { '/artifacts/x': 'eA==' },
      upload_results: {},
    });
    const receipt = finishedReceipt(h);
    expect(receipt.score_str).toBe('50.000000'); // download + execution + upload seconds
    expect(receipt.block_numbers).toEqual([]);
    expect(receipt.time_took_us).toBe(1_500_000);
    expect(h.commands.at(-1)).toEqual({ type: 'organic.link.close' });
    expect(h.actor.getSnapshot().status).toBe('active');
    h.disconnected('connection closed (1000)');
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().output).toEqual({ jobUuid: uuid, minerHotkey: minerKey.ss58, status: 'completed', excused: false, incident: undefined });
  });

  it('adds streaming_ready with the server details for a streaming job', () => {
    const h = start({ request: { streaming_details: { public_key: 'CLIENT-CERT', executor_ip: null } } });
    const uuid = h.request.uuid;
    toRunning(h);
    expect(h.sent('V0InitialJobRequest')['streaming_details']).toEqual({ public_key: 'CLIENT-CERT', executor_ip: null });
    for (const m of [miner.volumes(uuid), miner.streaming(uuid), miner.done(uuid), miner.finished(uuid)]) h.fromMiner(m);
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'streaming_ready', 'execution_done', 'completed']);
    expect(h.sink.updates[3]!.metadata?.streaming_details).toEqual({
      streaming_server_cert: 'CERT',
      streaming_server_address: '10.0.0.7',
      streaming_server_port: 4443,
    });
  });

  it('takes a burst of answers that arrive ahead of their stage in order (the first answer per stage wins)', () => {
    const h = start();
    const uuid = h.request.uuid;
    h.connected();
    for (const m of [miner.accept(uuid), miner.accept(uuid), miner.ready(uuid), miner.volumes(uuid), miner.done(uuid), miner.volumes(uuid)]) h.fromMiner(m);
    h.fromMiner(miner.finished(uuid, 'first'));
    h.fromMiner(miner.finished(uuid, 'second'));
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed']);
    expect(h.sink.updates.at(-1)!.metadata?.miner_response?.docker_process_stdout).toBe('first');
    expect(h.observed.ignored).toEqual(['duplicate:V0AcceptJobRequest', 'duplicate:V0VolumesReadyRequest', 'late:V0JobFinishedRequest']);
    expect(h.sentTypes().filter((t) => t === 'V0JobAcceptedReceiptRequest')).toHaveLength(1);
  });

  it("ignores another job's messages, the manifest and machine specs", () => {
    const h = start();
    h.connected();
    h.fromMiner({ message_type: 'V0ExecutorManifestRequest', manifest: { 'always_on.test': 1 } as Record<ExecutorClass, number> });
    h.fromMiner(miner.accept('someone-else'));
    h.fromMiner(miner.decline('someone-else'));
    expect(h.sink.updates).toEqual([]);
    expect(h.observed.ignored).toEqual(['unhandled:V0ExecutorManifestRequest', 'other_job:V0AcceptJobRequest', 'other_job:V0DeclineJobRequest']);
    h.fromMiner(miner.accept(h.request.uuid));
    h.fromMiner({ message_type: 'V0MachineSpecsRequest', job_uuid: h.request.uuid, specs: { specs: {} } });
    expect(h.sink.statuses()).toEqual(['accepted']);
  });
});

describe('organic job machine: timeouts (horde_failed, reported by the validator)', () => {
  function expectTimeout(h: Harness, reason: string): void {
    expect(terminalStatuses(h)).toEqual(['horde_failed']);
    const details = h.sink.updates.at(-1)!.metadata?.horde_failure_details;
    expect(details).toMatchObject({ reported_by: 'validator', reason });
  }

  it('gives the connection connectTimeoutMs, then fails with miner_connection_failed (no receipt: no socket)', () => {
    const h = start();
    h.advance(9_999);
    expect(h.sink.updates).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'miner_connection_failed');
    expect(h.sentTypes()).toEqual([]);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'horde_failed', incident: 'connection_failed' });
  });

  it('waits 7 s for the accept: initial_response_timed_out', () => {
    const h = start();
    h.connected();
    h.advance(6_999);
    expect(h.sink.updates).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'initial_response_timed_out');
    expect(finishedReceipt(h).score_str).toBe('0.000000');
    expect(h.commands.at(-1)).toEqual({ type: 'organic.link.close' });
    h.disconnected('connection closed (1000)');
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'horde_failed', incident: 'timed_out' });
  });

  it('waits spin-up(class) + 5 s for readiness: executor_readiness_response_timed_out', () => {
    const h = start({ request: { executor_class: 'always_on.llm.a6000' } });
    h.connected();
    h.fromMiner(miner.accept(h.request.uuid));
    h.advance(34_999);
    expect(terminalStatuses(h)).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'executor_readiness_response_timed_out');
    expect(h.sink.statuses()).toEqual(['accepted', 'horde_failed']);
  });

  it('gives volumes leeway + download: volumes_timed_out', () => {
    const h = start();
    toRunning(h);
    h.advance(14_999);
    expect(terminalStatuses(h)).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'volumes_timed_out');
  });

  it('extends ONE deadline: unused download time carries over to execution (execution_timed_out)', () => {
    const h = start();
    toRunning(h);
    h.advance(2_000); // 13 s of leeway + download left
    h.fromMiner(miner.volumes(h.request.uuid));
    h.advance(30_000 + 12_999);
    expect(terminalStatuses(h)).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'execution_timed_out');
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'horde_failed']);
  });

  it('adds the streaming start limit for a streaming job: streaming_job_ready_timed_out', () => {
    const h = start({ request: { streaming_details: { public_key: 'K', executor_ip: null } } });
    toRunning(h);
    h.fromMiner(miner.volumes(h.request.uuid));
    h.advance(15_000 + 5_000 - 1);
    expect(terminalStatuses(h)).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'streaming_job_ready_timed_out');
  });

  it('adds the upload limit last: final_response_timed_out', () => {
    const h = start();
    toRunning(h);
    h.fromMiner(miner.volumes(h.request.uuid));
    h.fromMiner(miner.done(h.request.uuid));
    h.advance(15_000 + 30_000 + 10_000 - 1);
    expect(terminalStatuses(h)).toEqual([]);
    h.advance(1);
    expectTimeout(h, 'final_response_timed_out');
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'horde_failed']);
  });
});

describe('organic job machine: the miner ends the job', () => {
  it('a busy decline covered by valid excuses is rejected (by the miner) and excused: no incident', () => {
    const judged: number[] = [];
    const h = start({
      judge: (_decline, checkTimeMs) => {
        judged.push(checkTimeMs);
        return { excused: true, validExcuses: 1, requiredExcuses: 1 };
      },
    });
    h.connected();
    const startedAt = h.clock.now();
    h.advance(300);
    h.fromMiner(miner.decline(h.request.uuid, 'busy'));
    expect(judged).toEqual([startedAt]);
    expect(h.sink.statuses()).toEqual(['rejected']);
    expect(h.sink.updates[0]!.metadata?.job_rejection_details).toEqual({ rejected_by: 'miner', reason: 'busy', message: 'Miner properly excused job', context: null });
    expect(finishedReceipt(h).score_str).toBe('0.000000');
    h.disconnected();
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'rejected', excused: true, incident: undefined });
  });

  it('a busy decline without enough excuses is an incident', () => {
    const h = start({ judge: () => ({ excused: false, validExcuses: 0, requiredExcuses: 1 }) });
    h.connected();
    h.fromMiner(miner.decline(h.request.uuid, 'busy'));
    expect(h.sink.updates[0]!.metadata?.job_rejection_details?.message).toBe('Miner failed to excuse job');
    h.disconnected();
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'rejected', excused: false, incident: 'job_rejected' });
  });

  it('another decline reason is never excused and keeps the miner text', () => {
    const judge = jest.fn(() => ({ excused: true, validExcuses: 9, requiredExcuses: 0 }));
    const h = start({ judge });
    h.connected();
    h.fromMiner(miner.decline(h.request.uuid, 'validator_blacklisted', 'go away'));
    expect(judge).not.toHaveBeenCalled();
    expect(h.sink.updates[0]!.metadata?.job_rejection_details).toMatchObject({ reason: 'validator_blacklisted', message: 'Miner rejected job: go away' });
    expect(h.actor.getSnapshot().context.ending).toMatchObject({ kind: 'rejected', excused: false });
  });

  it('V0JobFailedRequest at any stage ends the job failed with the job failure details', () => {
    const h = start();
    toRunning(h);
    h.fromMiner(miner.volumes(h.request.uuid));
    h.fromMiner(miner.failed(h.request.uuid));
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'volumes_ready', 'failed']);
    expect(h.sink.updates.at(-1)!.metadata?.job_failure_details).toEqual({
      reason: 'nonzero_return_code',
      stage: 'execution',
      message: 'Job container exited with non-zero exit code: 3',
      context: null,
      docker_process_exit_status: 3,
      docker_process_stdout: 'out',
      docker_process_stderr: 'err',
    });
    expect(finishedReceipt(h).score_str).toBe('0.000000');
    h.disconnected();
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'failed', incident: 'job_failed' });
  });

  it("V0HordeFailedRequest is relayed as horde_failed with the miner's details", () => {
    const h = start();
    toRunning(h);
    h.fromMiner(miner.hordeFailed(h.request.uuid));
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'horde_failed']);
    expect(h.sink.updates.at(-1)!.metadata?.horde_failure_details).toEqual({
      reported_by: 'miner',
      reason: 'executor_disconnected',
      message: 'Executor disconnected while job was running (code: 1006)',
      context: null,
    });
    h.disconnected();
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'horde_failed', incident: 'horde_failed' });
  });

  it('the legacy V0ExecutorFailedRequest becomes horde_failed generic_error', () => {
    const h = start();
    h.connected();
    h.fromMiner({ message_type: 'V0ExecutorFailedRequest', job_uuid: h.request.uuid, executor_token: null });
    expect(h.sink.updates.at(-1)!.metadata?.horde_failure_details).toMatchObject({ reason: 'generic_error', reported_by: 'miner' });
  });

  it('a refusal GenericError (Unknown validator) fails the job with miner_connection_failed; other GenericErrors do not', () => {
    const h = start();
    h.connected();
    h.fromMiner({ message_type: 'GenericError', details: 'Received JobRequest for unknown job_uuid' });
    expect(h.sink.updates).toEqual([]);
    h.fromMiner({ message_type: 'GenericError', details: `Unknown validator: ${validator.ss58}` });
    expect(h.sink.updates.at(-1)).toMatchObject({
      status: 'horde_failed',
      metadata: { horde_failure_details: { reason: 'miner_connection_failed', reported_by: 'miner' } },
    });
  });
});

describe('organic job machine: connection, shutdown, stop', () => {
  it('a refused connection is horde_failed miner_connection_failed at once, with no receipt', () => {
    const h = start();
    h.disconnected('connect ECONNREFUSED 127.0.0.1:1');
    expect(h.sink.statuses()).toEqual(['horde_failed']);
    expect(h.sink.updates[0]!.metadata?.horde_failure_details).toEqual({
      reported_by: 'validator',
      reason: 'miner_connection_failed',
      message: 'Could not connect to the miner at ws://127.0.0.1:1/v0.1/validator_interface/' + validator.ss58 + ': connect ECONNREFUSED 127.0.0.1:1',
      context: { stage: 'connecting' },
    });
    expect(h.commands).toEqual([]);
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'horde_failed', incident: 'connection_failed' });
  });

  it('a connection lost mid-job is horde_failed miner_connection_failed, naming the stage', () => {
    const h = start();
    toRunning(h);
    h.disconnected('connection closed (1006)');
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'horde_failed']);
    expect(h.sink.updates.at(-1)!.metadata?.horde_failure_details?.message).toBe('Lost the connection to the miner while downloading: connection closed (1006)');
    expect(h.sentTypes()).not.toContain('V0JobFinishedReceiptRequest');
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('supervisor.shutdown mid-job reports horde_failed (validator shutting down), sends the receipt and closes', () => {
    const h = start();
    toRunning(h);
    h.actor.send({ type: 'supervisor.shutdown' });
    expect(h.sink.updates.at(-1)).toMatchObject({
      status: 'horde_failed',
      metadata: { horde_failure_details: { reported_by: 'validator', reason: 'unhandled_exception', message: 'validator shutting down' } },
    });
    expect(finishedReceipt(h).score_str).toBe('0.000000');
    expect(h.commands.at(-1)).toEqual({ type: 'organic.link.close' });
    h.disconnected('connection closed (1000)');
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'horde_failed', incident: undefined });
  });

  it('a second shutdown while closing finishes at once', () => {
    const h = start();
    h.connected();
    h.actor.send({ type: 'supervisor.shutdown' });
    h.actor.send({ type: 'supervisor.shutdown' });
    expect(h.actor.getSnapshot().status).toBe('done');
    expect(terminalStatuses(h)).toEqual(['horde_failed']);
  });

  it('finishes after closeTimeoutMs when the socket does not report its close', () => {
    const h = start();
    h.connected();
    h.fromMiner(miner.decline(h.request.uuid));
    h.advance(1_999);
    expect(h.actor.getSnapshot().status).toBe('active');
    h.advance(1);
    expect(h.actor.getSnapshot().status).toBe('done');
  });

  it('ignores everything after the end: late answers, late failures, late timeouts', () => {
    const h = start();
    toRunning(h);
    h.fromMiner(miner.failed(h.request.uuid));
    h.fromMiner(miner.volumes(h.request.uuid));
    h.fromMiner(miner.hordeFailed(h.request.uuid));
    h.advance(60_000);
    h.fromMiner(miner.finished(h.request.uuid));
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready', 'failed']);
    expect(h.observed.ended).toBe(1);
  });

  it('reports nothing more once stopped (the abort)', () => {
    const h = start();
    toRunning(h);
    h.actor.stop();
    h.fromMiner(miner.volumes(h.request.uuid));
    h.advance(120_000);
    expect(h.sink.statuses()).toEqual(['accepted', 'executor_ready']);
  });

  it('a failing sink is counted and the job still ends with its outcome', () => {
    const h = start();
    h.connected();
    h.sink.failNext = true;
    h.fromMiner(miner.accept(h.request.uuid));
    h.sink.failNext = true;
    h.fromMiner(miner.decline(h.request.uuid));
    expect(h.observed.reportFailures).toEqual(['accepted', 'rejected']);
    h.disconnected();
    expect(h.actor.getSnapshot().output).toMatchObject({ status: 'rejected' });
  });
});
