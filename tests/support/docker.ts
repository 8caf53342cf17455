import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';

/** Helpers for tests that use the real Docker engine (and a fake one on a unix socket). */

export const TEST_IMAGE = process.env.HORDE_TEST_IMAGE ?? 'horde-testjob:local';

/** A `horde.id` unique to this test process, so parallel test files never see each other's containers. */
export function testHordeId(name: string): string {
  return `test-${name}-${process.pid}`;
}

export function localDocker(): Dockerode {
  return new Dockerode({ socketPath: '/var/run/docker.sock' });
}

/** Builds the local test image when it is missing (never pulls: no registry is reachable). */
export async function ensureTestImage(docker: Dockerode): Promise<void> {
  try {
    await docker.getImage(TEST_IMAGE).inspect();
  } catch {
    execFileSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'build-test-image.sh')], { stdio: 'inherit' });
  }
}

/** Containers labelled `horde.managed=true` and `horde.id=<hordeId>`, running or not. */
export async function listLabelledContainers(docker: Dockerode, hordeId: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: ['horde.managed=true', `horde.id=${hordeId}`] } });
}

/** Force-removes every container of `hordeId`; returns how many there were. */
export async function removeLabelledContainers(docker: Dockerode, hordeId: string): Promise<number> {
  const leftovers = await listLabelledContainers(docker, hordeId);
  await Promise.all(leftovers.map((info) => docker.getContainer(info.Id).remove({ force: true }).catch(() => undefined)));
  return leftovers.length;
}

/** Polls until a container of `hordeId` is running (to abort or inspect it mid-run). */
export async function waitForRunningContainer(docker: Dockerode, hordeId: string, timeoutMs = 10_000): Promise<Dockerode.ContainerInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = (await listLabelledContainers(docker, hordeId)).find((info) => info.State === 'running');
    if (running) return running;
    if (Date.now() > deadline) throw new Error(`no running container for ${hordeId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type FakeEngineHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface FakeDockerEngine {
  readonly socketPath: string;
  readonly requests: Array<{ method: string; url: string }>;
  close(): Promise<void>;
}

/**
 * A fake Docker Engine API on a unix socket: answers only what `handler` handles (404 otherwise). Used to test
 * pull failures and timeouts without touching a registry.
 */
export async function startFakeDockerEngine(handler: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<FakeDockerEngine> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'horde-fake-engine-'));
  const socketPath = path.join(dir, 'docker.sock');
  const requests: Array<{ method: string; url: string }> = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    if (!handler(req, res)) res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
