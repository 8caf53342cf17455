/**
 * Miner reservation latency (run: `npx tsx bench/miner.ts`, or `npm run bench:miner`).
 *
 * A real `horde miner` process (`--executor-backend noop`: executors are never started, the figure is the reservation
 * path) with a pool of 100 slots, and 100 validator connections in this process, authenticated first. After a
 * warm-up burst on another class, each connection sends one `V0InitialJobRequest` at the same moment and the time
 * from its send to its `V0AcceptJobRequest` is measured. The miner runs in its own process so that this load
 * generator does not share its event loop (anchors.md B.3); both still share the machine's cores. Every frame is
 * signed before the clock starts. The JobStarted receipts (~12 ms of sr25519 each) are verified and countersigned by
 * the miner's receipt crypto thread, off the reservation path (the miner hands them over once the burst is answered);
 * the warm-up's are all settled before the burst.
 *
 * Prints the figures, the miner's main-thread CPU time over the burst (the work the last accept queued behind: on a
 * loaded machine, compare it with the p99), the load average, the miner's own histogram of the reservation path, and
 * last `p50: X ms p99: Y ms` as the validators saw it (target: p99 under 50 ms).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { devHotkey, initCrypto, pydanticDatetime, signReceiptPayload, signValidatorAuth, type Hotkey } from '../src/crypto';
import type { ReceiptPayload } from '../src/crypto/receipts';
import { systemClock } from '../src/util/clock';

const SLOTS = 100;
const CONCURRENT = 100;
const WARMUP = 100;
const CLASS = 'always_on.test';
const WARMUP_CLASS = 'always_on.cpu.8c.16gb';

interface Session {
  readonly ws: WebSocket;
  /** Resolves with the next frame of a type. */
  next(type: string): Promise<Record<string, unknown>>;
}

function session(url: string, validator: Hotkey, minerHotkey: string): Promise<Session> {
  const ws = new WebSocket(`${url}/v0.1/validator_interface/${validator.ss58}`, { perMessageDeflate: false });
  const waiting = new Map<string, Array<(frame: Record<string, unknown>) => void>>();
  ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    const type = String(frame['message_type']);
    waiting.get(type)?.shift()?.(frame);
  });
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const list = waiting.get(type) ?? [];
      list.push(resolve);
      waiting.set(type, list);
    });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      const manifest = next('V0ExecutorManifestRequest');
      ws.send(JSON.stringify(signValidatorAuth(validator, minerHotkey, systemClock)));
      void manifest.then(() => resolve({ ws, next }));
    });
  });
}

function initialRequest(validator: Hotkey, minerHotkey: string, executorClass: string, n: number): string {
  const jobUuid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const payload: ReceiptPayload = {
    job_uuid: jobUuid,
    miner_hotkey: minerHotkey,
    validator_hotkey: validator.ss58,
    timestamp: pydanticDatetime(Date.now()),
    receipt_type: 'JobStartedReceipt',
    executor_class: executorClass,
    is_organic: true,
    ttl: 7,
  };
  return JSON.stringify({
    message_type: 'V0InitialJobRequest',
    job_uuid: jobUuid,
    executor_class: executorClass,
    docker_image: null,
    timeout_seconds: null,
    volume: null,
    job_started_receipt_payload: payload,
    job_started_receipt_signature: signReceiptPayload(validator, payload),
    streaming_details: null,
    executor_timing: { allowed_leeway: 5, download_time_limit: 30, execution_time_limit: 60, upload_time_limit: 30, streaming_start_time_limit: 5 },
  });
}

/**
 * The miner's own view of the reservation path (`horde_miner_reservation_latency_ms`: the initial request reaching its
 * job actor → the accept handed to the socket), as the bucket bounds holding its p50 and p99. The miner records it when
 * it starts the job actors, once the burst is over: this waits (at most `timeoutMs`) until the burst's samples are in.
 */
async function minerSide(httpUrl: string, expected: number, timeoutMs: number): Promise<string> {
  const startedAt = performance.now();
  for (;;) {
    const text = await (await fetch(`${httpUrl}/metrics`)).text();
    const buckets: Array<[number, number]> = [];
    for (const match of text.matchAll(/^horde_miner_reservation_latency_ms_bucket\{([^}]*)\} (\d+)/gm)) {
      const labels = match[1]!;
      if (!labels.includes(`executor_class="${CLASS}"`) || !labels.includes('outcome="reserved"')) continue;
      const le = /le="([^"]+)"/.exec(labels)![1]!;
      buckets.push([le === '+Inf' ? Infinity : Number(le), Number(match[2])]);
    }
    const total = buckets.at(-1)?.[1] ?? 0;
    if (total < expected && performance.now() - startedAt < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const bound = (p: number) => buckets.find(([, count]) => count >= (p / 100) * total)?.[0] ?? NaN;
    return `miner-side reservation path (initial request at its job → accept sent), ${total} samples: p50 <= ${bound(50)} ms, p99 <= ${bound(99)} ms`;
  }
}

/** Receipts still queued in the miner (verify, countersign, store), from its `/metrics`. */
async function receiptQueueDepth(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const match = /^horde_miner_receipt_queue_depth(?:\{[^}]*\})? (\d+)/m.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** Waits until the miner has settled every queued receipt (at most `timeoutMs`), so that none of it lands in the burst. */
async function receiptsSettled(httpUrl: string, timeoutMs: number): Promise<number> {
  const startedAt = performance.now();
  for (;;) {
    const depth = await receiptQueueDepth(httpUrl);
    if (depth === 0 || performance.now() - startedAt > timeoutMs) return depth;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function round(sessions: readonly Session[], frames: readonly string[]): Promise<number[]> {
  const latencies: number[] = new Array<number>(frames.length);
  const done = sessions.map((s, i) =>
    s.next('V0AcceptJobRequest').then(() => {
      latencies[i] = performance.now() - sent[i]!;
    }),
  );
  const sent: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    sent[i] = performance.now();
    sessions[i]!.ws.send(frames[i]!);
  }
  await Promise.all(done);
  return latencies;
}

/**
 * CPU time (ms) the miner's main thread has run (Linux: `/proc/<pid>/task/<pid>/schedstat`), undefined elsewhere. Over
 * the burst it is the work the accepts queued behind, whatever else the machine was doing.
 */
function mainThreadCpuMs(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

async function startMinerProcess(
  dir: string,
  metagraphPath: string,
): Promise<{ pid: number; url: string; httpUrl: string; stop(): Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    [
      // e.g. HORDE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the miner.
      ...(process.env['HORDE_BENCH_NODE_ARGS']?.split(' ').filter((a) => a !== '') ?? []),
      join(__dirname, '..', 'bin', 'horde.js'),
      'miner',
      '--dev-key',
      'bench-miner',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metagraph-file',
      metagraphPath,
      '--data-dir',
      dir,
      '--executor-backend',
      'noop',
      '--manifest',
      JSON.stringify({ [CLASS]: SLOTS, [WARMUP_CLASS]: WARMUP }),
      // The noop executors never connect: keep their jobs (and slots) for the whole run.
      '--executor-startup-limit-ms',
      '10m',
      '--drain-grace-ms',
      '0',
      '--log-level',
      'error',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /listening on http:\/\/([^\s]+)/.exec(out);
      if (match !== null) resolve(`ws://${match[1]}`);
    });
    void exited.then((code) => reject(new Error(`miner exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    url,
    httpUrl: url.replace('ws://', 'http://'),
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function main(): Promise<void> {
  await initCrypto();
  const miner = devHotkey('bench-miner');
  const validators = Array.from({ length: CONCURRENT }, (_, i) => devHotkey(`bench-validator-${i}`));
  const dir = mkdtempSync(join(tmpdir(), 'horde-bench-miner-'));
  const metagraphPath = join(dir, 'metagraph.json');
  writeFileSync(metagraphPath, JSON.stringify({ validators: validators.map((v) => ({ hotkey: v.ss58 })) }));
  const handle = await startMinerProcess(join(dir, 'data'), metagraphPath);
  try {
    const sessions = await Promise.all(validators.map((v) => session(handle.url, v, miner.ss58)));
    // Everything is signed before the clock starts: only the miner's work is timed.
    const warmup = validators.map((v, i) => initialRequest(v, miner.ss58, WARMUP_CLASS, i));
    const measured = validators.map((v, i) => initialRequest(v, miner.ss58, CLASS, 10_000 + i));
    await round(sessions, warmup);
    // The warm-up's receipts (~25 ms of sr25519 each on the crypto thread) are verified and stored before the measured
    // burst, and its executors started: none of that work may land in the measured burst.
    const left = await receiptsSettled(handle.httpUrl, 30_000);
    if (left > 0) console.log(`warning: ${left} warm-up receipts still queued at the burst`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const cpuBefore = mainThreadCpuMs(handle.pid);
    const latencies = (await round(sessions, measured)).sort((a, b) => a - b);
    const cpuAfter = mainThreadCpuMs(handle.pid);
    const sum = latencies.reduce((a, b) => a + b, 0);
    console.log(`miner bench — Node ${process.version}, ${new Date().toISOString()}`);
    console.log(`reservations: ${latencies.length} concurrent from ${sessions.length} authenticated sessions, pool of ${SLOTS} slots`);
    console.log(`min ${latencies[0]!.toFixed(1)} ms, mean ${(sum / latencies.length).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      console.log(`miner main thread CPU from the first send to the last accept: ${(cpuAfter - cpuBefore).toFixed(1)} ms`);
    }
    console.log(`load average (1 min) on ${cpus().length} CPUs: ${loadavg()[0]!.toFixed(2)}`);
    console.log(await minerSide(handle.httpUrl, CONCURRENT, 2_000));
    for (const s of sessions) s.ws.terminate();
    console.log(`validator-side, from the send of the initial request to the accept:`);
    console.log(`p50: ${percentile(latencies, 50).toFixed(1)} ms p99: ${percentile(latencies, 99).toFixed(1)} ms`);
  } finally {
    await handle.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
