import { encodeAckFrame, encodeDataFrame, parseReliableFrame } from '../../src/transport/reliable';
import { connectClient, route, startTestServer, type Json, type TestClient, type TestServer } from '../support/acceptorHelpers';

const PATH = '/v0.1/validator_interface/5F3sa2TJAWMqDhXG6jhV4N8ko9SxwGy8TpaNS1repo5EYjQX';

let server: TestServer | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.stop();
  server = undefined;
});

async function reliableClient(session: string, lastReceived: number, extra: Record<string, string> = {}): Promise<TestClient> {
  const c = await connectClient(server!.url(PATH), {
    headers: {
      'x-horde-reliable': '1',
      'x-horde-session': session,
      'x-horde-last-received': String(lastReceived),
      ...extra,
    },
  });
  clients.push(c);
  return c;
}

/** The next frame, parsed: data frames with their JSON payload. */
async function nextFrame(c: TestClient): Promise<{ kind: 'data'; seq: number; json: Json } | { kind: 'ack'; seq: number }> {
  const frame = parseReliableFrame(await c.next());
  if (frame.kind === 'invalid') throw new Error(frame.reason);
  if (frame.kind === 'ack') return frame;
  return { kind: 'data', seq: frame.seq, json: JSON.parse(frame.text) as Json };
}

/** Reads `count` frames and splits them into acks and data frames (their relative order is not part of the contract). */
async function frames(c: TestClient, count: number) {
  const acks: number[] = [];
  const data: Array<{ seq: number; json: Json }> = [];
  for (let i = 0; i < count; i++) {
    const f = await nextFrame(c);
    if (f.kind === 'ack') acks.push(f.seq);
    else data.push({ seq: f.seq, json: f.json });
  }
  return { acks, data };
}

const data = (seq: number, message: Json) => encodeDataFrame(seq, JSON.stringify(message));

describe('reliable mode (server side)', () => {
  it('answers the 101 with the reliable headers, frames replies as R<seq> and acks what it delivered', async () => {
    server = await startTestServer([route()]);
    const c = await reliableClient('session-a', 0);
    expect(c.upgradeHeaders['x-horde-reliable']).toBe('1');
    expect(c.upgradeHeaders['x-horde-last-received']).toBe('0');
    c.send(data(1, { message_type: 'hello' }));
    const { acks, data: replies } = await frames(c, 2);
    expect(acks).toEqual([1]);
    expect(replies).toEqual([{ seq: 1, json: expect.objectContaining({ message_type: 'echo', n: 1 }) as unknown }]);
  });

  it('drops a duplicate data frame without delivering it, and acks it again', async () => {
    server = await startTestServer([route()]);
    const c = await reliableClient('session-b', 0);
    c.send(data(1, { message_type: 'once' }));
    await frames(c, 2);
    c.send(data(1, { message_type: 'once' }));
    expect(await nextFrame(c)).toEqual({ kind: 'ack', seq: 1 });
    c.send(data(2, { message_type: 'next' }));
    const { acks, data: replies } = await frames(c, 2);
    expect(acks).toEqual([2]);
    // n counts deliveries to the role: the duplicate never reached it.
    expect(replies).toEqual([{ seq: 2, json: expect.objectContaining({ n: 2, payload: { message_type: 'next' } }) as unknown }]);
    expect(await server.telemetry.sum('horde_acceptor_reliable_frames_total', { kind: 'duplicate' })).toBe(1);
  });

  it('resends unacknowledged frames in order after the client reconnects, before any new frame', async () => {
    server = await startTestServer([route()]);
    const first = await reliableClient('session-c', 0);
    first.send(data(1, { message_type: 'one' }));
    first.send(data(2, { message_type: 'two' }));
    const before = await frames(first, 4);
    expect(before.data.map((d) => d.seq)).toEqual([1, 2]);
    // The client saw only R1 before the connection dropped.
    first.send(encodeAckFrame(1));
    first.ws.terminate();
    await first.closed;

    // The new connection's role greets at once; the resent frame must still come first.
    const second = await reliableClient('session-c', 1, { 'x-test-greet': '1' });
    expect(second.upgradeHeaders['x-horde-last-received']).toBe('2');
    const resent = await nextFrame(second);
    expect(resent).toEqual({ kind: 'data', seq: 2, json: expect.objectContaining({ payload: { message_type: 'two' } }) as unknown });
    expect(await nextFrame(second)).toEqual({ kind: 'data', seq: 3, json: { message_type: 'greeting' } });
    second.send(encodeAckFrame(3));
    second.send(data(3, { message_type: 'three' }));
    const after = await frames(second, 2);
    expect(after.acks).toEqual([3]);
    expect(after.data).toEqual([{ seq: 4, json: expect.objectContaining({ payload: { message_type: 'three' } }) as unknown }]);
    expect(await server.telemetry.sum('horde_acceptor_reliable_frames_total', { kind: 'resent' })).toBe(1);
  });

  it('dedupes data frames a client resends after a reconnect', async () => {
    server = await startTestServer([route()]);
    const first = await reliableClient('session-d', 0);
    first.send(data(1, { message_type: 'one' }));
    first.send(data(2, { message_type: 'two' }));
    await frames(first, 4);
    first.send(encodeAckFrame(2));
    first.ws.terminate();
    await first.closed;

    const second = await reliableClient('session-d', 2);
    expect(second.upgradeHeaders['x-horde-last-received']).toBe('2');
    // A client that missed the ack of R2 sends it again: acked, not delivered.
    second.send(data(2, { message_type: 'two' }));
    expect(await nextFrame(second)).toEqual({ kind: 'ack', seq: 2 });
    second.send(data(3, { message_type: 'three' }));
    const after = await frames(second, 2);
    // The role of the new connection sees exactly one message: 'three'.
    expect(after.data).toEqual([{ seq: 3, json: expect.objectContaining({ n: 1, payload: { message_type: 'three' } }) as unknown }]);
  });

  it('neither delivers nor acks data frames that arrive once the connection is closing', async () => {
    server = await startTestServer([route()]);
    const first = await reliableClient('session-i', 0);
    // R1 makes the role close the connection; R2 arrives right behind it, in the same TCP segment or the next.
    first.send(data(1, { message_type: 'auth_bad_signature' }));
    first.send(data(2, { message_type: 'too-late' }));
    expect((await first.closed).code).toBe(3000);
    expect(first.received.filter((f) => f === 'A2')).toEqual([]);
    const second = await reliableClient('session-i', 0);
    // The session delivered R1 only: the client must resend R2.
    expect(second.upgradeHeaders['x-horde-last-received']).toBe('1');
  });

  it('closes the older connection with 4001 when its session resumes on a newer one', async () => {
    server = await startTestServer([route()]);
    const older = await reliableClient('session-e', 0);
    await reliableClient('session-e', 0);
    expect(await older.closed).toEqual({ code: 4001, reason: 'session resumed on another connection' });
  });

  it('closes with 4003 on a sequence gap and 4002 on a frame that is not reliable framing', async () => {
    server = await startTestServer([route()]);
    const gap = await reliableClient('session-f', 0);
    gap.send(data(2, { message_type: 'skipped-one' }));
    expect((await gap.closed).code).toBe(4003);
    const garbage = await reliableClient('session-g', 0);
    garbage.send(JSON.stringify({ message_type: 'plain' }));
    expect((await garbage.closed).code).toBe(4002);
  });

  it('closes with 4000 when the client leaves more frames unacknowledged than the session window', async () => {
    server = await startTestServer([route()], { reliableSessions: { sendCapacity: 2 } });
    const c = await reliableClient('session-h', 0);
    for (let seq = 1; seq <= 3; seq++) c.send(data(seq, { message_type: 'no-acks-coming' }));
    expect(await c.closed).toEqual({ code: 4000, reason: 'send buffer overflow' });
    const echoes = c.received.filter((f) => f.startsWith('R'));
    expect(echoes).toHaveLength(2);
    expect(await server.telemetry.sum('horde_acceptor_dropped_messages_total', { reason: 'send_overflow' })).toBe(1);
  });

  it('speaks plain frames to a client that does not ask, and on a route that does not offer it', async () => {
    server = await startTestServer([route(), route({ name: 'plain', path: '/plain', reliable: false })]);
    const plain = await connectClient(server.url(PATH));
    clients.push(plain);
    expect(plain.upgradeHeaders['x-horde-reliable']).toBeUndefined();
    plain.send({ message_type: 'hi' });
    expect(await plain.nextJson()).toMatchObject({ message_type: 'echo', n: 1 });

    const refused = await connectClient(server.url('/plain'), {
      headers: { 'x-horde-reliable': '1', 'x-horde-session': 's', 'x-horde-last-received': '0' },
    });
    clients.push(refused);
    expect(refused.upgradeHeaders['x-horde-reliable']).toBeUndefined();
    refused.send({ message_type: 'hi' });
    expect(await refused.nextJson()).toMatchObject({ message_type: 'echo' });
  });
});
