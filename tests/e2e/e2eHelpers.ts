/**
 * Shared pieces of the end-to-end tests: a local cluster per test file (four real roles as processes, real Docker),
 * a client of its facilitator, an HTTP server receiving uploads, and the "nothing left behind" check.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Dockerode from 'dockerode';
import type { LocalCluster } from '../../src/cli/cluster';
import { devHotkey, initCrypto } from '../../src/crypto';
import { HordeClient } from '../../src/sdk';
import { hordeContainers, nothingLeft } from '../integration/miner/minerProcess';

export const E2E_IMAGE = process.env['HORDE_TEST_IMAGE'] ?? 'horde-testjob:local';

export async function clientOf(cluster: LocalCluster): Promise<HordeClient> {
  await initCrypto();
  return new HordeClient({ url: cluster.facilitatorUrl, hotkey: devHotkey(cluster.userKeyName), pollIntervalMs: 500 });
}

export interface UploadServer {
  readonly url: string;
  readonly received: Array<{ method: string; path: string; body: Buffer }>;
  close(): Promise<void>;
}

/** Accepts every PUT/POST with 200 and keeps what it got. */
export async function startUploadServer(): Promise<UploadServer> {
  const received: UploadServer['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upload': 'ok' }).end('stored');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function docker(): Dockerode {
  return new Dockerode({ socketPath: '/var/run/docker.sock' });
}

/** Containers of this cluster (running or not). */
export function containersOf(cluster: LocalCluster): Promise<Dockerode.ContainerInfo[]> {
  return hordeContainers(docker(), cluster.hordeId);
}

/**
 * Polls until no executor process and no container of the cluster remain (`nothingLeft`). While the cluster's miner
 * runs it keeps a warm standby executor (idle, no job): that one is allowed, and the miner must hold no slot, unless
 * `idleStandbysAllowed` is false (its miner is gone, so the standby must have exited too).
 */
export async function nothingRunning(cluster: LocalCluster, timeoutMs = 30_000, { idleStandbysAllowed = true } = {}): Promise<void> {
  const minerUrl = idleStandbysAllowed ? cluster.processes.find((p) => p.role === 'miner')?.url : undefined;
  await nothingLeft(docker(), cluster.hordeId, timeoutMs, minerUrl);
}
