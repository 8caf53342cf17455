import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { FaultProxy } from '../support/faultProxy';

let echo: Server;
let echoPort: number;
let proxy: FaultProxy;
const clients: Socket[] = [];

beforeEach(async () => {
  echo = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  echoPort = (echo.address() as AddressInfo).port;
  proxy = await FaultProxy.start({ targetPort: echoPort, random: () => 0.5 });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await proxy.close();
  echo.close();
  await once(echo, 'close');
});

async function dial(): Promise<Socket> {
  const socket = connect(proxy.port, '127.0.0.1');
  clients.push(socket);
  await once(socket, 'connect');
  return socket;
}

/** Collects what the socket receives until `bytes` arrived (or the timeout passes), with the chunk count. */
function receive(socket: Socket, bytes: number, timeoutMs = 2000): Promise<{ text: string; chunks: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    let text = '';
    let chunks = 0;
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ text, chunks, ms: Date.now() - started });
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      chunks++;
      if (text.length >= bytes) done();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', onData);
  });
}

describe('fault proxy', () => {
  it('forwards data both ways unchanged when no fault is on', async () => {
    const socket = await dial();
    const got = receive(socket, 5);
    socket.write('hello');
    expect((await got).text).toBe('hello');
    expect(proxy.connectionCount).toBe(1);
  });

  it('delays each direction by the configured latency', async () => {
    proxy.latency(100);
    const socket = await dial();
    const got = receive(socket, 4);
    socket.write('ping');
    const { text, ms } = await got;
    expect(text).toBe('ping');
    expect(ms).toBeGreaterThanOrEqual(190); // 100 ms out + 100 ms back, minus timer rounding
  });

  it('blackholes traffic silently while keeping the connection, until healed', async () => {
    const socket = await dial();
    proxy.blackhole(true);
    const lost = receive(socket, 4, 300);
    socket.write('lost');
    expect((await lost).text).toBe('');
    expect(socket.destroyed).toBe(false);
    expect(proxy.connectionCount).toBe(1);
    await proxy.heal();
    const got = receive(socket, 5);
    socket.write('again');
    expect((await got).text).toBe('again');
  });

  it('resets every open connection', async () => {
    const socket = await dial();
    const closed = new Promise<Error | undefined>((resolve) => {
      socket.once('error', (error) => resolve(error));
      socket.once('close', () => resolve(undefined));
    });
    proxy.reset();
    expect(await closed).toMatchObject({ code: 'ECONNRESET' });
  });

  it('refuses new connections while keeping existing ones, and accepts again afterwards', async () => {
    const kept = await dial();
    await proxy.refuse(true);
    const refused = connect(proxy.port, '127.0.0.1');
    clients.push(refused);
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    const got = receive(kept, 4);
    kept.write('kept');
    expect((await got).text).toBe('kept');
    await proxy.refuse(false);
    const again = await dial();
    const echoed = receive(again, 2);
    again.write('ok');
    expect((await echoed).text).toBe('ok');
  });

  it('slices data into small delayed pieces', async () => {
    proxy.slice(10, 5);
    const socket = await dial();
    const payload = 'x'.repeat(100);
    const got = receive(socket, payload.length);
    socket.write(payload);
    const { text, chunks } = await got;
    expect(text).toBe(payload);
    expect(chunks).toBeGreaterThanOrEqual(5);
  });

  it('paces data to the bandwidth limit', async () => {
    proxy.bandwidth(50_000);
    const socket = await dial();
    const payload = 'y'.repeat(10_000);
    const got = receive(socket, payload.length, 5000);
    socket.write(payload);
    const { text, ms } = await got;
    expect(text).toBe(payload);
    expect(ms).toBeGreaterThanOrEqual(350); // 10 kB each way at 50 kB/s ≈ 400 ms
  });
});
