/**
 * `horde demo`: runs one real job through a real Horde miner process and the executor it spawns, with this process
 * playing the validator's part (ValidatorAuthForMiner, signed receipts, the initial and full job requests), then
 * prints what the job wrote. It is the first thing a new user runs (`scripts/run.sh`); once the validator and the
 * facilitator land, `horde up` + `horde job run` replace it with all four roles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, defineSettings, loadConfig, setting } from '../config';
import { devHotkey, initCrypto, pydanticDatetime, signReceiptPayload, signValidatorAuth, type Hotkey } from '../crypto';
import type { ReceiptPayload } from '../crypto/receipts';
import {
  duplexCodec,
  minerToValidatorCodec,
  validatorToMinerCodec,
  type MinerToValidatorMessage,
  type ValidatorToMinerMessageInput,
} from '../protocol';
import { createTransport, type TransportActor } from '../transport';
import { systemClock } from '../util/clock';
import { HordeError } from '../util/errors';

/** The image the demo runs when none is given: the local busybox image `scripts/build-test-image.sh` builds. */
export const DEMO_DEFAULT_IMAGE = 'horde-testjob:local';
/** The command the demo runs when none is given after `--`. */
export const DEMO_DEFAULT_COMMAND: readonly string[] = ['sh', '-c', 'echo "hello from a Horde job on $(uname -m)"; ls /'];
/** How long the miner may take to answer /healthz after its start (module loading under tsx takes a few seconds). */
export const DEMO_MINER_START_TIMEOUT_MS = 60_000;
/** How long each stage may take before the demo gives up; generous, since the first container start is slow. */
export const DEMO_STAGE_TIMEOUT_MS = 120_000;
/** Grace the miner gets to drain and exit after SIGTERM before it is killed. */
export const DEMO_MINER_STOP_GRACE_MS = 15_000;

const demoSettings = defineSettings({
  image: setting.string({ doc: 'Docker image of the job (must exist locally or be pullable).', default: DEMO_DEFAULT_IMAGE }),
  executionTimeLimitMs: setting.durationMs({
    doc: 'Execution time limit of the job.',
    default: 30_000,
    env: 'HORDE_DEMO_EXECUTION_TIME_LIMIT_MS',
  }),
});

class DemoError extends HordeError {
  constructor(message: string) {
    super('demo.failed', message);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new DemoError('no port'))));
    });
  });
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new DemoError(`the miner exited with code ${child.exitCode} while starting`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new DemoError(`the miner did not answer ${url} within ${timeoutMs} ms`);
}

/** Waits for miner messages of one job, one at a time, failing on a decline or failure message. */
class JobInbox {
  private readonly queue: MinerToValidatorMessage[] = [];
  private wake: (() => void) | undefined;
  private closedWith: string | undefined;

  constructor(transport: TransportActor) {
    transport.on('transport.message', ({ message }) => {
      this.queue.push(message as MinerToValidatorMessage);
      this.wake?.();
    });
    transport.on('transport.closed', ({ code, reason }) => {
      this.closedWith = `the miner closed the connection (${code}${reason ? `: ${reason}` : ''})`;
      this.wake?.();
    });
  }

  async next(type: MinerToValidatorMessage['message_type'], timeoutMs: number): Promise<MinerToValidatorMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.queue.shift();
      if (message !== undefined) {
        if (message.message_type === type) return message;
        if (
          message.message_type === 'V0DeclineJobRequest' ||
          message.message_type === 'V0JobFailedRequest' ||
          message.message_type === 'V0HordeFailedRequest' ||
          message.message_type === 'GenericError'
        ) {
          return message;
        }
        continue;
      }
      if (this.closedWith !== undefined) throw new DemoError(this.closedWith);
      const left = deadline - Date.now();
      if (left <= 0) throw new DemoError(`no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          r();
        };
      });
    }
  }
}

function receipt(validator: Hotkey, payload: ReceiptPayload): { payload: ReceiptPayload; signature: string } {
  return { payload, signature: signReceiptPayload(validator, payload) };
}

interface DemoIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

async function runJob(
  io: DemoIo,
  transport: TransportActor,
  validator: Hotkey,
  miner: Hotkey,
  options: { image: string; command: readonly string[]; executionTimeLimitS: number },
): Promise<number> {
  const inbox = new JobInbox(transport);
  const send = (message: ValidatorToMinerMessageInput) => transport.send({ type: 'transport.send', message });
  const jobUuid = randomUUID();
  const executorClass = 'always_on.test';
  const now = () => pydanticDatetime(systemClock.nowMs());
  const base = { job_uuid: jobUuid, miner_hotkey: miner.ss58, validator_hotkey: validator.ss58 };

  transport.start();
  send({ ...signValidatorAuth(validator, miner.ss58, systemClock), message_type: 'ValidatorAuthForMiner' });
  const manifest = await inbox.next('V0ExecutorManifestRequest', DEMO_STAGE_TIMEOUT_MS);
  if (manifest.message_type === 'V0ExecutorManifestRequest') io.out(`miner manifest: ${JSON.stringify(manifest.manifest)}`);

  const started = receipt(validator, {
    ...base,
    timestamp: now(),
    receipt_type: 'JobStartedReceipt',
    executor_class: executorClass,
    is_organic: true,
    ttl: 7,
  });
  send({
    message_type: 'V0InitialJobRequest',
    job_uuid: jobUuid,
    executor_class: executorClass,
    docker_image: options.image,
    timeout_seconds: null,
    volume: null,
    job_started_receipt_payload: started.payload as never,
    job_started_receipt_signature: started.signature,
    streaming_details: null,
    executor_timing: {
      allowed_leeway: 5,
      download_time_limit: 30,
      execution_time_limit: options.executionTimeLimitS,
      upload_time_limit: 30,
      streaming_start_time_limit: 5,
    },
  });
  io.out(`job ${jobUuid}: sent to the miner`);

  const stages: Array<[MinerToValidatorMessage['message_type'], string]> = [
    ['V0AcceptJobRequest', 'accepted: an executor is reserved'],
    ['V0ExecutorReadyRequest', 'executor ready'],
    ['V0VolumesReadyRequest', 'volumes ready'],
    ['V0ExecutionDoneRequest', 'execution done'],
    ['V0JobFinishedRequest', 'finished'],
  ];
  let result: MinerToValidatorMessage | undefined;
  for (const [type, label] of stages) {
    const message = await inbox.next(type, DEMO_STAGE_TIMEOUT_MS);
    if (message.message_type !== type) {
      result = message;
      break;
    }
    io.out(`job ${jobUuid}: ${label}`);
    if (type === 'V0AcceptJobRequest') {
      const accepted = receipt(validator, { ...base, timestamp: now(), receipt_type: 'JobAcceptedReceipt', time_accepted: now(), ttl: 300 });
      send({ message_type: 'V0JobAcceptedReceiptRequest', payload: accepted.payload as never, signature: accepted.signature });
    }
    if (type === 'V0ExecutorReadyRequest') {
      send({
        message_type: 'V0JobRequest',
        job_uuid: jobUuid,
        executor_class: executorClass,
        docker_image: options.image,
        raw_script: null,
        docker_run_options_preset: 'none',
        docker_run_cmd: [...options.command],
        env: {},
        volume: null,
        output_upload: null,
        artifacts_dir: null,
      });
    }
    result = message;
  }

  const succeeded = result?.message_type === 'V0JobFinishedRequest';
  const finished = receipt(validator, {
    ...base,
    timestamp: now(),
    receipt_type: 'JobFinishedReceipt',
    time_started: now(),
    time_took_us: 0,
    score_str: succeeded ? '1.000000' : '0.000000',
    block_numbers: [],
  });
  send({ message_type: 'V0JobFinishedReceiptRequest', payload: finished.payload as never, signature: finished.signature });

  if (result?.message_type === 'V0JobFinishedRequest') {
    io.out('--- job stdout ---');
    io.out(result.docker_process_stdout.replace(/\n$/, ''));
    if (result.docker_process_stderr !== '') {
      io.out('--- job stderr ---');
      io.out(result.docker_process_stderr.replace(/\n$/, ''));
    }
    return 0;
  }
  io.err(`job ${jobUuid} did not complete: ${JSON.stringify(result)}`);
  return 1;
}

/** `horde demo [--image IMG] [-- CMD...]`; returns the exit code (0 when the job completed). */
export async function demoCommand(args: readonly string[], io: DemoIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const dashDash = args.indexOf('--');
  const flagArgs = dashDash === -1 ? args : args.slice(0, dashDash);
  const command = dashDash === -1 ? DEMO_DEFAULT_COMMAND : args.slice(dashDash + 1);
  let config;
  try {
    const outcome = loadConfig(demoSettings, {
      argv: flagArgs,
      env: process.env,
      command: 'horde demo',
      usageTail: '[-- CMD...]',
      summary:
        "Starts a miner, plays the validator's part for one job (signed auth and receipts), lets the miner's " +
        "executor run it in Docker, and prints the job's output. Without a command after --, it runs a greeting.",
    });
    if (outcome.kind === 'help') {
      io.out(outcome.text.replace(/\n$/, ''));
      return 0;
    }
    config = outcome.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(error.message);
      return 3;
    }
    throw error;
  }
  if (command.length === 0) {
    io.err('horde demo: nothing to run after --');
    return 3;
  }

  await initCrypto();
  const validator = devHotkey('horde-demo-validator');
  const miner = devHotkey('horde-demo-miner');
  const dataDir = await mkdtemp(join(tmpdir(), 'horde-demo-'));
  const port = await freePort();
  const metagraphFile = join(dataDir, 'metagraph.json');
  await writeFile(
    metagraphFile,
    JSON.stringify({
      validators: [{ hotkey: validator.ss58, active: true }],
      miners: [{ hotkey: miner.ss58, address: '127.0.0.1', port }],
    }),
  );

  const bin = resolve(__dirname, '..', '..', 'bin', 'horde.js');
  const minerProcess = spawn(
    process.execPath,
    [
      bin,
      'miner',
      '--host', '127.0.0.1',
      '--port', String(port),
      '--dev-key', 'horde-demo-miner',
      '--manifest', JSON.stringify({ 'always_on.test': 1 }),
      '--metagraph-file', metagraphFile,
      '--data-dir', join(dataDir, 'miner'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let minerLog = '';
  minerProcess.stderr?.on('data', (chunk: Buffer) => {
    minerLog = (minerLog + chunk.toString('utf8')).slice(-20_000);
  });
  const transport = createTransport({
    url: `ws://127.0.0.1:${port}/v0.1/validator_interface/${validator.ss58}`,
    codec: duplexCodec(minerToValidatorCodec, validatorToMinerCodec),
  });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    transport.stop();
    minerProcess.kill('SIGTERM');
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    io.out(`starting a miner on 127.0.0.1:${port} (hotkey ${miner.ss58})`);
    await waitForHealth(`http://127.0.0.1:${port}/healthz`, minerProcess, DEMO_MINER_START_TIMEOUT_MS);
    return await runJob(io, transport, validator, miner, {
      image: config.image,
      command,
      executionTimeLimitS: Math.ceil(config.executionTimeLimitMs / 1000),
    });
  } catch (error) {
    io.err(`horde demo: ${interrupted ? 'interrupted' : error instanceof Error ? error.message : String(error)}`);
    if (!interrupted && minerLog !== '') io.err(`--- miner log (tail) ---\n${minerLog.slice(-4_000)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    transport.stop();
    if (minerProcess.exitCode === null && minerProcess.signalCode === null) {
      const exited = new Promise<void>((r) => minerProcess.once('exit', () => r()));
      minerProcess.kill('SIGTERM');
      const timer = setTimeout(() => minerProcess.kill('SIGKILL'), DEMO_MINER_STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}
