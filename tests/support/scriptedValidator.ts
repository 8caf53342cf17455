/**
 * A scripted validator for miner tests: a real `ws` client that speaks the validator → miner protocol with dev keys
 * (signed `ValidatorAuthForMiner`, signed receipts), records every frame the miner sends, and lets a test wait for the
 * next frame of a given type.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { pydanticDatetime, signReceiptPayload, signValidatorAuth, type Hotkey } from '../../src/crypto';
import type { ReceiptPayload } from '../../src/crypto/receipts';
import { systemClock, type Clock } from '../../src/util/clock';

export type Json = Record<string, unknown>;

export interface ScriptedValidatorOptions {
  /** `ws://127.0.0.1:<port>` of the miner. */
  readonly minerUrl: string;
  readonly validator: Hotkey;
  readonly minerHotkey: string;
  readonly clock?: Clock;
  /** Path hotkey (defaults to the validator's own). */
  readonly pathHotkey?: string;
}

/** Options of an initial job request. */
export interface InitialJobOptions {
  readonly jobUuid?: string;
  readonly executorClass?: string;
  /** JobStarted receipt ttl (s); upstream's organic value is 7. */
  readonly ttlS?: number;
  readonly timing?: {
    readonly allowed_leeway: number;
    readonly download_time_limit: number;
    readonly execution_time_limit: number;
    readonly upload_time_limit: number;
    readonly streaming_start_time_limit: number;
  };
  readonly dockerImage?: string;
  /** Sign the receipt with this key instead (a forged receipt). */
  readonly receiptSigner?: Hotkey;
  /** Receipt timestamp in ms (default: now). */
  readonly receiptAtMs?: number;
}

export class ScriptedValidator {
  readonly received: Json[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private taken = 0;
  private readonly waiters: Array<() => void> = [];

  private constructor(
    readonly ws: WebSocket,
    readonly options: ScriptedValidatorOptions,
  ) {
    ws.on('message', (data: Buffer) => {
      this.received.push(JSON.parse(data.toString('utf8')) as Json);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString('utf8') });
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
  }

  get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /** Opens the connection (no message sent yet). */
  static connect(options: ScriptedValidatorOptions): Promise<ScriptedValidator> {
    const hotkey = options.pathHotkey ?? options.validator.ss58;
    const ws = new WebSocket(`${options.minerUrl}/v0.1/validator_interface/${hotkey}`);
    const client = new ScriptedValidator(ws, options);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Connects and authenticates; resolves with the manifest the miner pushed. */
  static async authenticated(options: ScriptedValidatorOptions): Promise<{ validator: ScriptedValidator; manifest: Json }> {
    const validator = await ScriptedValidator.connect(options);
    validator.sendAuth();
    const manifest = await validator.nextOfType('V0ExecutorManifestRequest');
    return { validator, manifest };
  }

  send(message: Json | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** A signed `ValidatorAuthForMiner`, `ageS` seconds old. */
  sendAuth(ageS = 0): void {
    const clock = { nowMs: () => this.clock.nowMs() - ageS * 1000 };
    this.send(signValidatorAuth(this.options.validator, this.options.minerHotkey, clock) as unknown as Json);
  }

  /** Sends a `V0InitialJobRequest` with a signed JobStarted receipt; returns the job uuid and the receipt payload. */
  sendInitialJob(job: InitialJobOptions = {}): { jobUuid: string; payload: ReceiptPayload } {
    const jobUuid = job.jobUuid ?? randomUUID();
    const executorClass = job.executorClass ?? 'always_on.test';
    const payload: ReceiptPayload = {
      job_uuid: jobUuid,
      miner_hotkey: this.options.minerHotkey,
      validator_hotkey: this.options.validator.ss58,
      timestamp: pydanticDatetime(job.receiptAtMs ?? this.clock.nowMs()),
      receipt_type: 'JobStartedReceipt',
      executor_class: executorClass,
      is_organic: true,
      ttl: job.ttlS ?? 30,
    };
    this.send({
      message_type: 'V0InitialJobRequest',
      job_uuid: jobUuid,
      executor_class: executorClass,
      docker_image: job.dockerImage ?? null,
      timeout_seconds: null,
      volume: null,
      job_started_receipt_payload: payload,
      job_started_receipt_signature: signReceiptPayload(job.receiptSigner ?? this.options.validator, payload),
      streaming_details: null,
      executor_timing: job.timing ?? {
        allowed_leeway: 5,
        download_time_limit: 10,
        execution_time_limit: 30,
        upload_time_limit: 10,
        streaming_start_time_limit: 5,
      },
    });
    return { jobUuid, payload };
  }

  /** Sends the `V0JobRequest` of a job (a busybox command in the test image). */
  sendJobRequest(jobUuid: string, cmd: readonly string[], options: { image?: string; executorClass?: string } = {}): void {
    this.send({
      message_type: 'V0JobRequest',
      job_uuid: jobUuid,
      executor_class: options.executorClass ?? 'always_on.test',
      docker_image: options.image ?? 'horde-testjob:local',
      raw_script: null,
      docker_run_options_preset: 'none',
      docker_run_cmd: [...cmd],
      env: {},
      volume: null,
      output_upload: null,
      artifacts_dir: null,
    });
  }

  /** Sends a signed `V0JobAcceptedReceiptRequest`. */
  sendAcceptedReceipt(jobUuid: string): ReceiptPayload {
    const now = pydanticDatetime(this.clock.nowMs());
    const payload: ReceiptPayload = {
      job_uuid: jobUuid,
      miner_hotkey: this.options.minerHotkey,
      validator_hotkey: this.options.validator.ss58,
      timestamp: now,
      receipt_type: 'JobAcceptedReceipt',
      time_accepted: now,
      ttl: 60,
    };
    this.send({ message_type: 'V0JobAcceptedReceiptRequest', payload, signature: signReceiptPayload(this.options.validator, payload) });
    return payload;
  }

  /** Sends a signed `V0JobFinishedReceiptRequest`. */
  sendFinishedReceipt(jobUuid: string, score = '1.000000'): ReceiptPayload {
    const now = pydanticDatetime(this.clock.nowMs());
    const payload: ReceiptPayload = {
      job_uuid: jobUuid,
      miner_hotkey: this.options.minerHotkey,
      validator_hotkey: this.options.validator.ss58,
      timestamp: now,
      receipt_type: 'JobFinishedReceipt',
      time_started: now,
      time_took_us: 1_000_000,
      score_str: score,
      block_numbers: [],
    };
    this.send({ message_type: 'V0JobFinishedReceiptRequest', payload, signature: signReceiptPayload(this.options.validator, payload) });
    return payload;
  }

  /** The next frame not yet taken (waits up to `timeoutMs`). */
  async next(timeoutMs = 10_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length <= this.taken) {
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('connection closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received[this.taken++]!;
  }

  /** Skips frames until one of `messageType` (optionally for `jobUuid`) comes; fails on timeout. */
  async nextOfType(messageType: string, options: { jobUuid?: string; timeoutMs?: number } = {}): Promise<Json> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame['message_type'] === messageType && (options.jobUuid === undefined || frame['job_uuid'] === options.jobUuid)) {
        return frame;
      }
    }
  }

  /** Every frame received so far of `messageType`. */
  allOfType(messageType: string): Json[] {
    return this.received.filter((frame) => frame['message_type'] === messageType);
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(1000);
    return this.closed;
  }

  terminate(): void {
    this.ws.terminate();
  }
}
