/**
 * Drives the validator's organic job machine without sockets: a fake `link` child records what the machine sends,
 * the test plays the miner by sending `organic.miner.*` events, time is a SimulatedClock, statuses land in an
 * in-memory StatusSink.
 */
import { randomUUID } from 'node:crypto';
import { createActor, fromCallback, SimulatedClock, type Actor } from 'xstate';
import { createOrganicJobMessages } from '../../src/actors/validator/organicMessages';
import { resolveOrganicJobTimings, type OrganicJobTimings } from '../../src/actors/validator/deadlines';
import type { JobRoute, StatusSink } from '../../src/actors/validator/types';
import type { Hotkey } from '../../src/crypto';
import {
  createOrganicJobMachine,
  type ExcuseVerdict,
  type OrganicJobMachine,
  type OrganicJobObserver,
  type OrganicLinkCommand,
  type OrganicLinkInput,
} from '../../src/machines/organicJob.machine';
import type { MinerToValidatorMessage, V0DeclineJobRequest, V0JobStatusUpdate, V2JobRequest } from '../../src/protocol';

/** A StatusSink that keeps every update in memory (and can be told to fail). */
export interface MemorySink extends StatusSink {
  readonly updates: V0JobStatusUpdate[];
  statuses(): string[];
  failNext: boolean;
}

export function memoryStatusSink(): MemorySink {
  const sink: MemorySink = {
    updates: [],
    failNext: false,
    report(update) {
      if (sink.failNext) {
        sink.failNext = false;
        throw new Error('disk full');
      }
      sink.updates.push(update);
    },
    statuses: () => sink.updates.map((u) => u.status),
  };
  return sink;
}

export function jobRequest(overrides: Partial<V2JobRequest> = {}): V2JobRequest {
  return {
    signature: null,
    type: 'job.new',
    message_type: 'V2JobRequest',
    uuid: randomUUID(),
    job_namespace: null,
    executor_class: 'always_on.test',
    docker_image: 'horde-testjob:local',
    args: ['sh', '-c', 'echo hi'],
    env: {},
    use_gpu: false,
    volume: null,
    output_upload: null,
    artifacts_dir: null,
    on_trusted_miner: false,
    download_time_limit: 10,
    execution_time_limit: 30,
    upload_time_limit: 10,
    streaming_start_time_limit: 5,
    streaming_details: null,
    ...overrides,
  };
}

export interface Harness {
  readonly actor: Actor<OrganicJobMachine>;
  readonly clock: SimulatedClock;
  readonly sink: MemorySink;
  /** Every command the machine gave its link, in order. */
  readonly commands: OrganicLinkCommand[];
  readonly request: V2JobRequest;
  readonly route: JobRoute;
  readonly linkInputs: OrganicLinkInput[];
  readonly observed: { stages: string[]; ignored: string[]; reportFailures: string[]; ended: number };
  /** message_type of every message sent to the miner. */
  sentTypes(): string[];
  sent<T extends string>(type: T): Record<string, unknown> & { message_type: T };
  fromMiner(message: MinerToValidatorMessage): void;
  connected(): void;
  disconnected(reason?: string): void;
  advance(ms: number): void;
}

export interface HarnessOptions {
  readonly validator: Hotkey;
  readonly miner: Hotkey;
  readonly request?: Partial<V2JobRequest>;
  readonly timings?: Partial<OrganicJobTimings>;
  readonly judge?: (decline: V0DeclineJobRequest, checkTimeMs: number) => ExcuseVerdict;
  /** Epoch ms the simulated clock starts at (receipts carry it). */
  readonly startMs?: number;
}

export function startOrganicJob(options: HarnessOptions): Harness {
  const clock = new SimulatedClock();
  clock.set(options.startMs ?? 1_750_000_000_000);
  const sink = memoryStatusSink();
  const commands: OrganicLinkCommand[] = [];
  const linkInputs: OrganicLinkInput[] = [];
  const request = jobRequest(options.request);
  const route: JobRoute = { miner: { hotkey: options.miner.ss58, address: '127.0.0.1', port: 1 }, trusted: false };
  const timings = resolveOrganicJobTimings(options.timings);
  const observed = { stages: [] as string[], ignored: [] as string[], reportFailures: [] as string[], ended: 0 };
  const observer: OrganicJobObserver = {
    stage: (stage) => observed.stages.push(stage),
    ignored: (why, type) => observed.ignored.push(`${why}:${type}`),
    reportFailed: (status) => observed.reportFailures.push(status),
    ended: () => {
      observed.ended++;
    },
    log: () => undefined,
  };
  const machine = createOrganicJobMachine({
    timings,
    clock: { nowMs: () => clock.now() },
    sink,
    messagesFor: (req, r) => createOrganicJobMessages({ validator: options.validator, minerHotkey: r.miner.hotkey, request: req, timings }),
    minerUrlFor: (r) => `ws://${r.miner.address}:${r.miner.port}/v0.1/validator_interface/${options.validator.ss58}`,
    judgeDecline: ({ decline, checkTimeMs }) => (options.judge ?? (() => ({ excused: false, validExcuses: 0, requiredExcuses: 1 })))(decline, checkTimeMs),
    observerFor: () => observer,
  });
  const link = fromCallback<OrganicLinkCommand, OrganicLinkInput>(({ input, receive }) => {
    linkInputs.push(input);
    receive((command) => commands.push(command));
  });
  const actor = createActor(machine.provide({ actors: { link } }), { clock, input: { request, route } });
  actor.start();
  const messages = () => commands.filter((c) => c.type === 'organic.link.send').map((c) => c.message as unknown as Record<string, unknown> & { message_type: string });
  return {
    actor,
    clock,
    sink,
    commands,
    request,
    route,
    linkInputs,
    observed,
    sentTypes: () => messages().map((m) => m.message_type),
    sent: <T extends string>(type: T) => {
      const found = messages().find((m) => m.message_type === type);
      if (found === undefined) throw new Error(`nothing of type ${type} was sent; sent: ${messages().map((m) => m.message_type).join(', ')}`);
      return found as Record<string, unknown> & { message_type: T };
    },
    fromMiner: (message) => actor.send({ type: 'organic.miner.message', message }),
    connected: () => actor.send({ type: 'organic.miner.connected' }),
    disconnected: (reason = 'connection closed (1006)') => actor.send({ type: 'organic.miner.disconnected', reason }),
    advance: (ms) => clock.increment(ms),
  };
}

/** Miner messages for the job `uuid`. */
export const miner = {
  accept: (uuid: string): MinerToValidatorMessage => ({ message_type: 'V0AcceptJobRequest', job_uuid: uuid }),
  ready: (uuid: string): MinerToValidatorMessage => ({ message_type: 'V0ExecutorReadyRequest', job_uuid: uuid, executor_token: null }),
  volumes: (uuid: string): MinerToValidatorMessage => ({ message_type: 'V0VolumesReadyRequest', job_uuid: uuid }),
  streaming: (uuid: string): MinerToValidatorMessage => ({
    message_type: 'V0StreamingJobReadyRequest',
    job_uuid: uuid,
    executor_token: null,
    public_key: 'CERT',
    ip: '10.0.0.7',
    port: 4443,
    miner_signature: '0xsig',
  }),
  done: (uuid: string): MinerToValidatorMessage => ({ message_type: 'V0ExecutionDoneRequest', job_uuid: uuid }),
  finished: (uuid: string, stdout = 'hi\n'): MinerToValidatorMessage => ({
    message_type: 'V0JobFinishedRequest',
    job_uuid: uuid,
    docker_process_stdout: stdout,
    docker_process_stderr: '',
    artifacts: { '/artifacts/x': 'eA==' },
    upload_results: null,
  }),
  decline: (uuid: string, reason: V0DeclineJobRequest['reason'] = 'busy', message = ''): MinerToValidatorMessage => ({
    message_type: 'V0DeclineJobRequest',
    job_uuid: uuid,
    message,
    reason,
    receipts: [],
    context: null,
  }),
  failed: (uuid: string): MinerToValidatorMessage => ({
    message_type: 'V0JobFailedRequest',
    job_uuid: uuid,
    message: 'Job container exited with non-zero exit code: 3',
    reason: 'nonzero_return_code',
    stage: 'execution',
    docker_process_exit_status: 3,
    docker_process_stdout: 'out',
    docker_process_stderr: 'err',
    context: null,
  }),
  hordeFailed: (uuid: string): MinerToValidatorMessage => ({
    message_type: 'V0HordeFailedRequest',
    job_uuid: uuid,
    reported_by: 'miner',
    message: 'Executor disconnected while job was running (code: 1006)',
    reason: 'executor_disconnected',
    context: null,
  }),
};
