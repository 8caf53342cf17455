import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import WebSocket from 'ws';
import { createActor, setup, type AnyActor } from 'xstate';
import { createBridgeInspector, type BridgeInspector } from '../../src/telemetry/inspector';
import { startInspectorBridge, type InspectorBridge } from '../../src/telemetry/inspector-bridge';

/** Polls `condition` (real sockets are involved, so real time passes); fails after `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** A browser stand-in: collects what the bridge relays. */
async function viewer(url: string): Promise<{ events: StatelyInspectionEvent[]; close(): void }> {
  const socket = new WebSocket(url);
  const events: StatelyInspectionEvent[] = [];
  socket.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8')) as StatelyInspectionEvent));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return { events, close: () => socket.terminate() };
}

const session = setup({
  types: { input: {} as { hotkey: string; authToken: string }, events: {} as { type: 'session.auth' } },
}).createMachine({
  id: 'validatorSession',
  context: ({ input }) => input,
  initial: 'awaitingAuth',
  states: {
    // connection open, nothing proven yet
    awaitingAuth: { on: { 'session.auth': 'serving' } },
    // authenticated validator
    serving: {},
  },
});

describe('inspector bridge', () => {
  let bridge: InspectorBridge | undefined;
  let inspector: BridgeInspector | undefined;
  const actors: AnyActor[] = [];
  const viewers: Array<{ close(): void }> = [];

  afterEach(async () => {
    for (const a of actors.splice(0)) a.stop();
    await inspector?.stop();
    for (const v of viewers.splice(0)) v.close();
    await bridge?.close();
    inspector = undefined;
    bridge = undefined;
  });

  it('relays a role process inspector to a viewer, on loopback and sanitized', async () => {
    bridge = await startInspectorBridge({ port: 0 });
    expect(bridge.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const view = await viewer(bridge.url);
    viewers.push(view);
    inspector = createBridgeInspector({ url: bridge.url });
    const actor = createActor(session, {
      input: { hotkey: '5FHneW46', authToken: 'very-secret-token' },
      inspect: inspector.inspect,
    }).start();
    actors.push(actor);
    actor.send({ type: 'session.auth' });

    await eventually(() =>
      view.events.some((e) => e.type === '@xstate.event' && e.event.type === 'session.auth'),
    );
    expect(view.events.find((e) => e.type === '@xstate.actor')).toMatchObject({ name: 'validatorSession' });
    expect(JSON.stringify(view.events)).not.toContain('very-secret-token');
    expect(JSON.stringify(view.events)).toContain('5FHneW46');
    expect(inspector.connectionState()).toBe('open');
  });

  it('replays recent events to a viewer that connects late', async () => {
    bridge = await startInspectorBridge({ port: 0, replayEvents: 3 });
    inspector = createBridgeInspector({ url: bridge.url });
    const actor = createActor(session, { input: { hotkey: 'h', authToken: 't' }, inspect: inspector.inspect }).start();
    actors.push(actor);
    actor.send({ type: 'session.auth' });
    await eventually(() => inspector!.connectionState() === 'open');
    // A first viewer proves the bridge holds more than three events by now.
    const early = await viewer(bridge.url);
    viewers.push(early);
    actor.send({ type: 'session.auth' });
    await eventually(() => early.events.length >= 3);
    const late = await viewer(bridge.url);
    viewers.push(late);
    await eventually(() => late.events.length === 3);
  });

  it('buffers while the bridge is away and delivers once it is up', async () => {
    const port = await freePort();
    inspector = createBridgeInspector({
      url: `ws://127.0.0.1:${port}`,
      reconnect: { baseMs: 20, capMs: 100, multiplier: 2 },
    });
    const actor = createActor(session, { input: { hotkey: 'h', authToken: 't' }, inspect: inspector.inspect }).start();
    actors.push(actor);
    await eventually(() => inspector!.failedAttempts() >= 1);
    expect(inspector.connectionState()).not.toBe('open');

    bridge = await startInspectorBridge({ port });
    await eventually(() => inspector!.connectionState() === 'open');
    const view = await viewer(bridge.url);
    viewers.push(view);
    await eventually(() => view.events.some((e) => e.type === '@xstate.actor'));
  });

  it('stops retrying an unreachable bridge on stop(), leaving nothing that keeps jest alive', async () => {
    const port = await freePort();
    inspector = createBridgeInspector({
      url: `ws://127.0.0.1:${port}`,
      reconnect: { baseMs: 20, capMs: 100, multiplier: 2 },
    });
    const actor = createActor(session, { input: { hotkey: 'h', authToken: 't' }, inspect: inspector.inspect }).start();
    actors.push(actor);
    await eventually(() => inspector!.failedAttempts() >= 2);
    await inspector.stop();
    expect(inspector.connectionState()).toBe('stopped');
    const attempts = inspector.failedAttempts();
    await new Promise((r) => setTimeout(r, 300)); // longer than the backoff cap: a live retry loop would show
    expect(inspector.failedAttempts()).toBe(attempts);
  });
});

describe('a process inspecting through an unreachable bridge', () => {
  const fixture = join(__dirname, 'telemetry-fixtures', 'inspector-child.ts');

  function runChild(mode: 'stop' | 'forget', url: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [require.resolve('tsx/cli'), fixture, url, mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      // A hung child is the failure this test exists to catch: kill it rather than leak it.
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  it.each(['stop', 'forget'] as const)('exits by itself after the actors are done (%s)', async (mode) => {
    const url = `ws://127.0.0.1:${await freePort()}`;
    const result = await runChild(mode, url);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(mode === 'stop' ? /^done stopped \d+/ : /^done (waiting|connecting) \d+/);
  });
});
