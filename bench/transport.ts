/**
 * Transport benchmark: echo throughput through the transport actor vs raw `ws` on loopback, and retained memory per
 * idle transport actor.
 *
 *   npx tsx bench/transport.ts            (env: BENCH_MESSAGES=100000 BENCH_ROUNDS=3 BENCH_IDLE_ACTORS=5000)
 *
 * Method: an echo server (raw ws, perMessageDeflate off) runs in a child process, so the client side under test has
 * a core of its own on a 2-core box. Each client keeps 64 messages in flight (~200-byte JSON job-like messages,
 * JSON.parse on receipt for both) and counts echoes per second. Rounds alternate raw/transport and the best round of
 * each is kept. The last line is `ratio: X` (transport / raw; target >= 0.7).
 * Memory: N transport actors held open on a no-op socket (so the figure excludes the socket itself: the actor, its
 * context, outbox, timers), forced GC before and after; plus, for scale, the heap cost of one raw ws client socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createActor, fromCallback, type AnyEventObject } from 'xstate';
import WebSocket from 'ws';
import type { FrameCodec } from '../src/protocol/codec.types';
import { createTransport } from '../src/transport/transport';
import { transportMachine } from '../src/transport/transport.machine';
import type { SocketEvent, SocketInput, SocketPort } from '../src/transport/socket';
import { ok, err } from '../src/util/result';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 64;
const IDLE_ACTORS = Number(process.env.BENCH_IDLE_ACTORS ?? 5_000);
const RAW_SOCKETS = 300;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type JobMessage = { message_type: string; job_uuid: string; seq: number; executor_class: string; payload: string };

const message = (seq: number): JobMessage => ({
  message_type: 'V0JobRequest',
  job_uuid: '3f2b8c1e-9d4a-4f7b-8e21-6c5a0b9d7e13',
  seq,
  executor_class: 'spin_up-4min.gpu-24gb',
  payload: 'x'.repeat(60),
});

const codec: FrameCodec<JobMessage, JobMessage> = {
  decode(text) {
    try {
      return ok(JSON.parse(text) as JobMessage);
    } catch {
      return err({ code: 'frame.malformed_json', message: 'not JSON' });
    }
  },
  encode: (m) => JSON.stringify(m),
};

const SERVER = `
const { WebSocketServer } = require(${JSON.stringify(require.resolve('ws'))});
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(data, { binary: false })));
wss.on('listening', () => process.stdout.write(String(wss.address().port) + '\\n'));
process.on('disconnect', () => process.exit(0));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve({ child, url: `ws://127.0.0.1:${chunk.toString().trim()}` }));
  });
}

interface Round {
  /** Echoes per second (wall clock). */
  readonly rate: number;
  /** Client-process CPU (user + system) per echo: less sensitive to other load on the box than the rate. */
  readonly cpuUsPerEcho: number;
}

function finishRound(started: bigint, cpu: NodeJS.CpuUsage): Round {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { rate: MESSAGES / seconds, cpuUsPerEcho: (used.user + used.system) / MESSAGES };
}

async function rawRound(url: string): Promise<Round> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let sent = 0;
  let received = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      JSON.parse(data.toString());
      received++;
      if (sent < MESSAGES) ws.send(JSON.stringify(message(sent++)));
      if (received === MESSAGES) resolve();
    });
    for (let i = 0; i < IN_FLIGHT; i++) ws.send(JSON.stringify(message(sent++)));
  });
  const round = finishRound(started, cpu);
  ws.terminate();
  return round;
}

async function transportRound(url: string): Promise<Round> {
  const transport = createTransport({ url, codec, options: { pingIntervalMs: 0 } });
  let sent = 0;
  let received = 0;
  const opened = new Promise<void>((resolve) => transport.on('transport.open', () => resolve()));
  transport.start();
  await opened;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    transport.on('transport.message', () => {
      received++;
      if (sent < MESSAGES) transport.send({ type: 'transport.send', message: message(sent++) });
      if (received === MESSAGES) resolve();
    });
    for (let i = 0; i < IN_FLIGHT; i++) transport.send({ type: 'transport.send', message: message(sent++) });
  });
  const round = finishRound(started, cpu);
  transport.stop();
  return round;
}

/** A socket that opens at once and never does anything: what an idle actor costs without its socket. */
const idleSocket = fromCallback<AnyEventObject, SocketInput>(({ sendBack }) => {
  const port: SocketPort = { send() {}, ack() {}, ping() {}, close() {} };
  sendBack({ type: 'socket.open', reliable: false, peerLastReceived: 0, port } satisfies SocketEvent);
});

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function idleActorBytes(): Promise<number> {
  const machine = transportMachine.provide({ actors: { socket: idleSocket } });
  const before = heapAfterGc();
  const actors = [];
  for (let i = 0; i < IDLE_ACTORS; i++) {
    actors.push(createActor(machine, { input: { url: 'ws://127.0.0.1:1/idle', codec } }).start());
  }
  await new Promise((resolve) => setImmediate(resolve));
  const after = heapAfterGc();
  const open = actors.filter((a) => (a.getSnapshot().value as { online?: unknown }).online !== undefined).length;
  if (open !== IDLE_ACTORS) throw new Error(`only ${open} of ${IDLE_ACTORS} idle actors are online`);
  for (const actor of actors) actor.stop();
  return (after - before) / IDLE_ACTORS;
}

async function rawSocketBytes(url: string): Promise<number> {
  const before = heapAfterGc();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < RAW_SOCKETS; i++) sockets.push(new WebSocket(url, { perMessageDeflate: false }));
  await Promise.all(sockets.map((ws) => new Promise((resolve) => ws.once('open', resolve))));
  const after = heapAfterGc();
  for (const ws of sockets) ws.terminate();
  return (after - before) / RAW_SOCKETS;
}

async function main(): Promise<void> {
  const { child, url } = await startServer();
  try {
    // warm-up, not counted
    await rawRound(url);
    await transportRound(url);
    const raw: Round[] = [];
    const actor: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw.push(await rawRound(url));
      actor.push(await transportRound(url));
    }
    const idleBytes = await idleActorBytes();
    const socketBytes = await rawSocketBytes(url);
    const bestRaw = Math.max(...raw.map((r) => r.rate));
    const bestActor = Math.max(...actor.map((r) => r.rate));
    const minCpu = (rounds: Round[]) => Math.min(...rounds.map((r) => r.cpuUsPerEcho));
    const fmt = (rounds: Round[]) => rounds.map((r) => Math.round(r.rate).toLocaleString('en-US')).join(', ');
    console.log(`node ${process.version}, ${MESSAGES} echoes per round, ${IN_FLIGHT} in flight, ~${JSON.stringify(message(0)).length}-byte JSON`);
    console.log(`raw ws echoes/s:          ${fmt(raw)} (best ${Math.round(bestRaw).toLocaleString('en-US')})`);
    console.log(`transport actor echoes/s: ${fmt(actor)} (best ${Math.round(bestActor).toLocaleString('en-US')})`);
    console.log(
      `client CPU per echo (best): raw ${minCpu(raw).toFixed(1)} us, transport ${minCpu(actor).toFixed(1)} us ` +
        `(cpu ratio ${(minCpu(raw) / minCpu(actor)).toFixed(2)})`,
    );
    console.log(`idle transport actor (no socket), retained heap: ${(idleBytes / 1024).toFixed(2)} KiB/actor over ${IDLE_ACTORS} actors`);
    console.log(`raw ws client socket, retained heap:             ${(socketBytes / 1024).toFixed(2)} KiB/socket over ${RAW_SOCKETS} sockets`);
    console.log(`ratio: ${(bestActor / bestRaw).toFixed(2)}`);
  } finally {
    child.stdin!.end();
    child.kill();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
