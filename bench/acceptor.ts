/**
 * Acceptor figures (run: `npx tsx bench/acceptor.ts`). Client and server share this process and its cores, so read
 * the numbers as ratios against bench/ and anchors.md C.2, not as capacity.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { sendTo, setup } from 'xstate';
import type { FrameCodec } from '../src/protocol/codec.types';
import { createAcceptor, type ConnectionBehaviourInput, type ConnectionHandle, type ConnectionRoleEvent } from '../src/transport/acceptor';
import { err, ok } from '../src/util/result';

type Json = Record<string, unknown>;

const codec: FrameCodec<Json, Json> = {
  decode: (text) => {
    try {
      return ok(JSON.parse(text) as Json);
    } catch (e) {
      return err({ code: 'frame.malformed_json', message: (e as Error).message });
    }
  },
  encode: (m) => JSON.stringify(m),
};

/** Authenticates on its first message, echoes every message. */
const echo = setup({
  types: {
    context: {} as { connection: ConnectionHandle<Json> },
    input: {} as ConnectionBehaviourInput<Json>,
    events: {} as ConnectionRoleEvent<Json>,
  },
}).createMachine({
  context: ({ input }) => ({ connection: input.connection }),
  initial: 'fresh',
  states: {
    fresh: {
      on: {
        'connection.message': {
          target: 'serving',
          actions: [
            sendTo(({ context }) => context.connection, { type: 'connection.authenticated' as const, identity: 'bench' }),
            sendTo(({ context }) => context.connection, ({ event }) => ({ type: 'connection.send' as const, message: event.message })),
          ],
        },
      },
    },
    serving: {
      on: {
        'connection.message': {
          actions: sendTo(({ context }) => context.connection, ({ event }) => ({ type: 'connection.send' as const, message: event.message })),
        },
      },
    },
  },
});

const JOB = {
  message_type: 'V0JobRequest',
  job_uuid: '7d5a0c8e-5d0b-4d7e-9f1e-2f3f6c1d9a11',
  executor_class: 'always_on.llm.a6000',
  docker_image: 'alpine:latest',
  raw_script: null,
  docker_run_options_preset: 'nvidia_all',
  docker_run_cmd: ['sh', '-c', 'echo hi > /artifacts/x'],
  env: {},
  volume: null,
  output_upload: null,
  artifacts_dir: '/artifacts',
};

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => ws.once('close', () => resolve()));
}

async function roundTrips(ws: WebSocket, total: number, inFlight: number, frame: (i: number) => string, isReply: (d: string) => boolean) {
  let sent = 0;
  let received = 0;
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      if (!isReply(data.toString())) return;
      received++;
      if (received === total) resolve();
      else if (sent < total) ws.send(frame(++sent));
    });
    for (; sent < Math.min(inFlight, total); ) ws.send(frame(++sent));
  });
  ws.removeAllListeners('message');
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const server = http.createServer();
  const acceptor = createAcceptor({
    server,
    // The idle-connection phase below opens 1,000 sockets one by one: keep them clear of the auth deadline.
    routes: [{ name: 'bench', path: '/v0.1/validator_interface/:hotkey', codec, behaviour: echo, authDeadlineMs: 600_000 }],
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v0.1/validator_interface/5Fbench`;
  const job = JSON.stringify(JOB);
  const rows: Array<[string, string]> = [];

  // Baseline: a bare ws server in this same process (JSON parse + stringify per echo), to read the rows as ratios.
  {
    const rawServer = http.createServer();
    const wss = new WebSocketServer({ server: rawServer, perMessageDeflate: false });
    wss.on('connection', (s) => s.on('message', (d: Buffer) => s.send(JSON.stringify(JSON.parse(d.toString())))));
    await new Promise<void>((resolve) => rawServer.listen(0, '127.0.0.1', resolve));
    const ws = await open(`ws://127.0.0.1:${(rawServer.address() as AddressInfo).port}/`);
    await roundTrips(ws, 5_000, 64, () => job, () => true); // warm-up
    const n = 30_000;
    const ms = await roundTrips(ws, n, 64, () => job, () => true);
    rows.push(['BASELINE bare ws echo (same process, no actors), 64 in flight', `${((n / ms) * 1000).toFixed(0)} echoes/s`]);
    ws.close();
    await closed(ws);
    await new Promise<void>((resolve) => wss.close(() => rawServer.close(() => resolve())));
  }

  // Warm-up
  for (let i = 0; i < 50; i++) {
    const ws = await open(url);
    ws.close();
    await closed(ws);
  }

  {
    const n = 500;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const ws = await open(url);
      const reply = new Promise((resolve) => ws.once('message', resolve));
      ws.send(job);
      await reply;
      ws.close();
      await closed(ws);
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    rows.push(['connect + auth + 1 echo + close, sequential', `${((n / ms) * 1000).toFixed(0)} connections/s (${(ms / n).toFixed(2)} ms each)`]);
  }

  for (const inFlight of [1, 64]) {
    const ws = await open(url);
    const n = inFlight === 1 ? 5_000 : 30_000;
    const ms = await roundTrips(ws, n, inFlight, () => job, () => true);
    rows.push([`echo of a ${job.length}-byte job message, ${inFlight} in flight`, `${((n / ms) * 1000).toFixed(0)} echoes/s${inFlight === 1 ? ` (RTT ${((ms / n) * 1000).toFixed(0)} µs)` : ''}`]);
    ws.close();
    await closed(ws);
  }

  {
    const ws = await open(url, { 'x-horde-reliable': '1', 'x-horde-session': 'bench-1', 'x-horde-last-received': '0' });
    const n = 30_000;
    let acked = 0;
    const ms = await roundTrips(
      ws,
      n,
      64,
      (i) => `R${i} ${job}`,
      (d) => {
        if (d.startsWith('R')) {
          ws.send(`A${++acked}`);
          return true;
        }
        return false;
      },
    );
    rows.push([`reliable mode echo (R/A framing, acks both ways), 64 in flight`, `${((n / ms) * 1000).toFixed(0)} echoes/s`]);
    ws.close();
    await closed(ws);
  }

  {
    const n = 1_000;
    global.gc?.();
    const before = process.memoryUsage().heapUsed;
    const sockets: WebSocket[] = [];
    for (let i = 0; i < n; i++) sockets.push(await open(url));
    await new Promise((resolve) => setTimeout(resolve, 200));
    global.gc?.();
    const after = process.memoryUsage().heapUsed;
    rows.push([
      `heap per idle connection (server + client side, N=${n}${global.gc ? ', forced GC' : ', no --expose-gc'})`,
      `${((after - before) / n / 1024).toFixed(1)} KiB`,
    ]);
    const start = process.hrtime.bigint();
    await acceptor.close({ graceMs: 5_000 });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    rows.push([`graceful close() of ${n} open connections (1001 + close handshake)`, `${ms.toFixed(0)} ms`]);
    await Promise.all(sockets.filter((ws) => ws.readyState !== WebSocket.CLOSED).map((ws) => closed(ws)));
  }

  await new Promise<void>((resolve) => server.close(() => resolve()));
  console.log(`acceptor bench — Node ${process.version}, ${new Date().toISOString()}`);
  for (const [what, figure] of rows) console.log(`  ${what.padEnd(70)} ${figure}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
