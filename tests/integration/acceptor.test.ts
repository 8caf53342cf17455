import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { AnyActorRef } from 'xstate';
import { AcceptorConfigError, CloseCode, createAcceptor } from '../../src/transport/acceptor';
import {
  connectClient,
  echoRole,
  eventually,
  jsonCodec,
  route,
  silentPeer,
  startTestServer,
  upgradeStatus,
  type TestClient,
  type TestServer,
} from '../support/acceptorHelpers';

const HOTKEY = '5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX';

let server: TestServer | undefined;
const clients: TestClient[] = [];

async function start(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  server = await startTestServer(...args);
  return server;
}

async function client(path: string, options?: WebSocket.ClientOptions): Promise<TestClient> {
  const c = await connectClient(server!.url(path), options);
  clients.push(c);
  return c;
}

function childIds(supervisor: AnyActorRef): string[] {
  return Object.keys((supervisor.getSnapshot() as { children: Record<string, unknown> }).children);
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.stop();
  server = undefined;
});

describe('routing', () => {
  it('serves a route by its path pattern and hands the role the decoded path parameters', async () => {
    const s = await start([route()]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}?version=1`);
    c.send({ message_type: 'hello' });
    const echo = await c.nextJson();
    expect(echo).toMatchObject({ message_type: 'echo', n: 1, params: { validator_hotkey: HOTKEY } });
    expect(await s.telemetry.sum('horde_acceptor_connections_total', { route: 'validator', outcome: 'accepted' })).toBe(1);
  });

  it('routes several patterns on one server, with or without the trailing slash', async () => {
    await start([
      route(),
      route({ name: 'executor', path: '/v0.1/executor_interface/:token' }),
      route({ name: 'facilitator', path: '/ws/v0/' }),
    ]);
    for (const path of ['/v0.1/executor_interface/job-1-abc', '/ws/v0/', '/ws/v0']) {
      const c = await client(path);
      c.send({ message_type: 'ping' });
      expect(await c.nextJson()).toMatchObject({ message_type: 'echo' });
    }
  });

  it('answers an unknown path with HTTP 404 and counts it, leaving plain HTTP untouched', async () => {
    const s = await start([route()]);
    expect(await upgradeStatus(s.url('/v0.1/nope/x'))).toBe(404);
    expect(await upgradeStatus(s.url('/v0.1/validator_interface/'))).toBe(404);
    expect(await s.telemetry.sum('horde_acceptor_connections_total', { outcome: 'not_found' })).toBe(2);
    const body = await new Promise<string>((resolve) =>
      http.get(`http://127.0.0.1:${s.port}/healthz`, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      }),
    );
    expect(body).toBe('http ok');
    expect(s.acceptor.socketCount).toBe(0);
  });

  it('lets verifyUpgrade refuse an upgrade with its status before any socket exists', async () => {
    const seen: string[] = [];
    const s = await start([
      route({
        name: 'executor',
        path: '/v0.1/executor_interface/:token',
        verifyUpgrade: async (_req, params) => {
          seen.push(params.token!);
          await Promise.resolve();
          return params.token === 'known'
            ? { accept: true }
            : { accept: false, status: 403, reason: 'unknown executor token' };
        },
      }),
    ]);
    expect(await upgradeStatus(s.url('/v0.1/executor_interface/stolen'))).toBe(403);
    const c = await client('/v0.1/executor_interface/known');
    c.send({ message_type: 'x' });
    expect(await c.nextJson()).toMatchObject({ params: { token: 'known' } });
    expect(seen).toEqual(['stolen', 'known']);
    expect(await s.telemetry.sum('horde_acceptor_connections_total', { outcome: 'refused' })).toBe(1);
  });

  it('answers 500 when verifyUpgrade throws', async () => {
    const s = await start([
      route({
        verifyUpgrade: () => {
          throw new Error('database down');
        },
      }),
    ]);
    expect(await upgradeStatus(s.url(`/v0.1/validator_interface/${HOTKEY}`))).toBe(500);
    expect(await s.telemetry.sum('horde_acceptor_connections_total', { outcome: 'failed' })).toBe(1);
  });
});

describe('authentication and closing', () => {
  it('closes a connection that has not authenticated by the deadline with 1008', async () => {
    const s = await start([route({ authDeadlineMs: 150 })]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    expect(await c.closed).toEqual({ code: 1008, reason: 'authentication deadline exceeded' });
    await eventually(async () => (await s.telemetry.sum('horde_acceptor_closes_total', { code: 1008 })) === 1);
  });

  it('keeps an authenticated connection past the deadline and registers it under its identity', async () => {
    const s = await start([route({ authDeadlineMs: 150 })]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send({ message_type: 'auth', identity: HOTKEY });
    expect(await c.nextJson()).toEqual({ message_type: 'auth_ok' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(s.acceptor.connections.byIdentity(HOTKEY)).toHaveLength(1);
    expect(await s.telemetry.histogramCount('horde_acceptor_auth_duration_ms', { route: 'validator' })).toBe(1);
  });

  it('closes with 1009 when a frame exceeds the route max payload, and counts it', async () => {
    const s = await start([route({ maxPayloadBytes: 1024 })]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send({ message_type: 'big', blob: 'x'.repeat(2048) });
    const closed = await c.closed;
    expect(closed.code).toBe(CloseCode.messageTooBig);
    await eventually(async () => (await s.telemetry.sum('horde_acceptor_closes_total', { code: 1009 })) === 1);
    expect(
      await s.telemetry.sum('horde_acceptor_socket_errors_total', { error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' }),
    ).toBe(1);
  });

  it('delivers a decode error to the role, which answers GenericError, and keeps the connection up', async () => {
    const s = await start([route()]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send('{not json');
    const reply = await c.nextJson();
    expect(reply.message_type).toBe('GenericError');
    expect(String(reply.details)).toMatch(/^Malformed message: /);
    c.send({ message_type: 'still-there' });
    expect(await c.nextJson()).toMatchObject({ message_type: 'echo', n: 1 });
    expect(await s.telemetry.sum('horde_acceptor_decode_errors_total', { route: 'validator' })).toBe(1);
    expect(await s.telemetry.sum('horde_acceptor_messages_total', { direction: 'in' })).toBe(2);
    expect(await s.telemetry.sum('horde_acceptor_messages_total', { direction: 'out' })).toBe(2);
  });

  it('closes with 3000 and the reason on the wire when the role finds a bad signature', async () => {
    await start([route()]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send({ message_type: 'auth_bad_signature' });
    expect(await c.closed).toEqual({ code: 3000, reason: 'invalid signature' });
  });

  it('closes with 3001 and the role reason when the validator is unknown', async () => {
    await start([route()]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send({ message_type: 'auth_unknown', hotkey: HOTKEY });
    expect(await c.closed).toEqual({ code: 3001, reason: `Unknown validator: ${HOTKEY}` });
  });

  it('closes with 1000 when the role logic finishes and with 1011 when it fails', async () => {
    const s = await start([route()]);
    const finishing = await client(`/v0.1/validator_interface/${HOTKEY}`);
    finishing.send({ message_type: 'finish' });
    expect(await finishing.closed).toEqual({ code: 1000, reason: 'normal closure' });
    const crashing = await client(`/v0.1/validator_interface/${HOTKEY}`);
    crashing.send({ message_type: 'crash' });
    expect(await crashing.closed).toEqual({ code: 1011, reason: 'internal error' });
    await eventually(async () => (await s.telemetry.sum('horde_acceptor_closes_total', { initiator: 'server' })) === 2);
  });

  it('records a close the peer started with its code', async () => {
    const s = await start([route()]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.ws.close(4321, 'bye');
    await c.closed;
    await eventually(
      async () => (await s.telemetry.sum('horde_acceptor_closes_total', { code: 4321, initiator: 'peer' })) === 1,
    );
    await eventually(async () => (await s.telemetry.sum('horde_acceptor_open_connections')) === 0);
  });
});

describe('heartbeat', () => {
  it('terminates a peer that stops answering pings', async () => {
    const s = await start([route({ heartbeatIntervalMs: 50, pongTimeoutMs: 100 })]);
    const mute = await client(`/v0.1/validator_interface/${HOTKEY}`, { autoPong: false });
    const healthy = await client(`/v0.1/validator_interface/${HOTKEY}`);
    let pings = 0;
    healthy.ws.on('ping', () => pings++);
    const closed = await mute.closed;
    expect(closed.code).toBe(1006); // terminated: no close frame
    expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
    expect(pings).toBeGreaterThanOrEqual(1);
    await eventually(async () => (await s.telemetry.sum('horde_acceptor_closes_total', { code: 1006 })) === 1);
  });

  it('terminates a raw socket that completed the handshake and then went silent', async () => {
    const s = await start([route({ heartbeatIntervalMs: 50, pongTimeoutMs: 50, authDeadlineMs: 60_000 })]);
    const peer = await silentPeer(s.port, `/v0.1/validator_interface/${HOTKEY}`);
    await peer.closed;
    await eventually(() => s.acceptor.socketCount === 0);
  });
});

describe('backpressure', () => {
  it('closes a peer that reads slower than the server writes with 4000 and counts what it could not send', async () => {
    const s = await start([route({ maxBufferedBytes: 64 * 1024, closeTimeoutMs: 200 })]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send({ message_type: 'auth', identity: HOTKEY });
    expect(await c.nextJson()).toEqual({ message_type: 'auth_ok' });
    c.ws.pause(); // stop reading: the kernel buffers fill, then the server's send buffer
    const [entry] = s.acceptor.connections.byIdentity(HOTKEY);
    const blob = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 64; i++) entry!.connection.send({ type: 'connection.send', message: { message_type: 'bulk', blob } });
    await eventually(async () => (await s.telemetry.sum('horde_acceptor_closes_total', { code: 4000 })) === 1);
    expect(await s.telemetry.sum('horde_acceptor_dropped_messages_total', { reason: 'send_overflow' })).toBeGreaterThan(0);
    c.ws.resume();
    await c.closed;
    await eventually(() => s.acceptor.socketCount === 0);
  });
});

describe('supervision and registry', () => {
  it('runs one supervised child per socket and drops it when the socket closes', async () => {
    const s = await start([route()]);
    const a = await client(`/v0.1/validator_interface/${HOTKEY}`);
    const b = await client(`/v0.1/validator_interface/${HOTKEY}`);
    await eventually(() => childIds(s.acceptor.supervisor).length === 2);
    expect(childIds(s.acceptor.supervisor).sort()).toEqual(['validator-1', 'validator-2']);
    a.ws.close(1000, 'done');
    await a.closed;
    await eventually(() => childIds(s.acceptor.supervisor).length === 1);
    expect(childIds(s.acceptor.supervisor)).toEqual(['validator-2']);
    expect(s.acceptor.connections.all().map((e) => e.connectionId)).toEqual(['validator-2']);
    b.send({ message_type: 'x' });
    expect(await b.nextJson()).toMatchObject({ message_type: 'echo' });
  });

  it('forgets a connection whose actor is stopped by force, and terminates its socket', async () => {
    const s = await start([route()]);
    const c = await client(`/v0.1/validator_interface/${HOTKEY}`);
    c.send({ message_type: 'auth', identity: HOTKEY });
    await c.nextJson();
    (s.acceptor.supervisor as unknown as { stop(): void }).stop();
    expect((await c.closed).code).toBe(1006);
    expect(s.acceptor.connections.size).toBe(0);
    expect(s.acceptor.connections.byIdentity(HOTKEY)).toEqual([]);
    expect(await s.telemetry.sum('horde_acceptor_open_connections')).toBe(0);
    await eventually(() => s.acceptor.socketCount === 0);
  });

  it('fans a message out to every connection of one identity through the registry', async () => {
    const s = await start([route()]);
    const first = await client(`/v0.1/validator_interface/${HOTKEY}`);
    const second = await client(`/v0.1/validator_interface/${HOTKEY}`);
    const other = await client(`/v0.1/validator_interface/someone-else`);
    first.send({ message_type: 'auth', identity: HOTKEY });
    second.send({ message_type: 'auth', identity: HOTKEY });
    other.send({ message_type: 'auth', identity: 'someone-else' });
    for (const c of [first, second, other]) expect(await c.nextJson()).toEqual({ message_type: 'auth_ok' });

    const targets = s.acceptor.connections.byIdentity(HOTKEY);
    expect(targets).toHaveLength(2);
    for (const t of targets) t.connection.send({ type: 'connection.send', message: { message_type: 'job.new', uuid: 'j1' } });
    expect(await first.nextJson()).toEqual({ message_type: 'job.new', uuid: 'j1' });
    expect(await second.nextJson()).toEqual({ message_type: 'job.new', uuid: 'j1' });
    other.send({ message_type: 'marker' });
    expect(await other.nextJson()).toMatchObject({ message_type: 'echo', payload: { message_type: 'marker' } });
  });

  it('can spawn its connections under a supervisor the role owns', async () => {
    const own = await startTestServer([route()]);
    try {
      const httpServer = http.createServer();
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      const acceptor = createAcceptor({
        server: httpServer,
        routes: [route()],
        supervisor: own.acceptor.supervisor,
      });
      const port = (httpServer.address() as AddressInfo).port;
      const c = await connectClient(`ws://127.0.0.1:${port}/v0.1/validator_interface/${HOTKEY}`);
      await eventually(() => childIds(own.acceptor.supervisor).includes('validator-1'));
      c.send({ message_type: 'x' });
      expect(await c.nextJson()).toMatchObject({ message_type: 'echo' });
      await acceptor.close({ graceMs: 200 });
      expect((await c.closed).code).toBe(1001);
      expect((own.acceptor.supervisor.getSnapshot() as { status: string }).status).toBe('active');
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    } finally {
      await own.stop();
    }
  });
});

describe('graceful shutdown', () => {
  it('closes every connection with 1001 and the reason, then resolves with no socket left', async () => {
    const s = await start([route(), route({ name: 'facilitator', path: '/ws/v0/' })]);
    const peers = [
      await client(`/v0.1/validator_interface/${HOTKEY}`),
      await client(`/v0.1/validator_interface/${HOTKEY}`),
      await client('/ws/v0/'),
    ];
    await s.acceptor.close({ graceMs: 1_000, reason: 'miner restarting' });
    for (const p of peers) expect(await p.closed).toEqual({ code: 1001, reason: 'miner restarting' });
    expect(s.acceptor.state).toBe('closed');
    expect(s.acceptor.socketCount).toBe(0);
    expect(s.acceptor.connections.size).toBe(0);
    expect((s.acceptor.supervisor.getSnapshot() as { status: string }).status).toBe('done');
    expect(await s.telemetry.sum('horde_acceptor_closes_total', { code: 1001 })).toBe(3);
  });

  it('refuses upgrades with 503 while draining and terminates a peer that ignores the close after the grace', async () => {
    const s = await start([route({ authDeadlineMs: 60_000 })]);
    const deaf = await silentPeer(s.port, `/v0.1/validator_interface/${HOTKEY}`);
    await eventually(() => s.acceptor.connections.size === 1);
    const closing = s.acceptor.close({ graceMs: 300 });
    expect(s.acceptor.state).toBe('draining');
    expect(await upgradeStatus(s.url(`/v0.1/validator_interface/${HOTKEY}`))).toBe(503);
    await closing;
    await deaf.closed;
    expect(s.acceptor.socketCount).toBe(0);
    expect(await s.telemetry.sum('horde_acceptor_connections_total', { outcome: 'unavailable' })).toBe(1);
  });

  it('answers 503 to an upgrade still being verified when the acceptor closes', async () => {
    let release: (() => void) | undefined;
    const s = await start([
      route({
        verifyUpgrade: (_req, _params, signal) =>
          new Promise((resolve) => {
            release = () => resolve({ accept: true });
            signal.addEventListener('abort', () => resolve({ accept: true }));
          }),
      }),
    ]);
    const status = upgradeStatus(s.url(`/v0.1/validator_interface/${HOTKEY}`));
    await eventually(() => release !== undefined);
    await s.acceptor.close({ graceMs: 100 });
    expect(await status).toBe(503);
  });
});

describe('configuration', () => {
  it('refuses inconsistent options with every problem listed', () => {
    const httpServer = http.createServer();
    let caught: unknown;
    try {
      createAcceptor({
        server: httpServer,
        routes: [
          { name: 'a', path: 'no-slash', codec: jsonCodec, behaviour: echoRole },
          { name: 'a', path: '/x/:p/:p', codec: jsonCodec, behaviour: echoRole, authDeadlineMs: 0 },
        ],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AcceptorConfigError);
    const problems = (caught as AcceptorConfigError).problems;
    expect((caught as AcceptorConfigError).code).toBe('acceptor.invalid_config');
    for (const expected of [
      'must start with "/"',
      'is used by another route',
      'repeats parameter "p"',
      'authDeadlineMs must be a finite number > 0',
    ]) {
      expect(problems.some((p) => p.includes(expected))).toBe(true);
    }
    expect(httpServer.listenerCount('upgrade')).toBe(0);
  });
});
