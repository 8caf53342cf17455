import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';

/** Debian's `docker-registry` package (distribution v2). */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/**
 * A real image registry on 127.0.0.1:<free port> for the image pull path: Debian's `docker-registry` started with a
 * temp config and storage folder (no auth, no TLS: the docker engine allows loopback registries without TLS).
 *
 * @example
 * ```ts
 * const registry = await startLocalRegistry();
 * const ref = await registry.pushCopy(docker, 'horde-testjob:local', 'horde/testjob:pull'); // 127.0.0.1:<port>/horde/testjob:pull
 * await docker.getImage(ref).remove();   // only the registry has it now
 * // ... the executor pulls `ref` ...
 * await registry.close();
 * ```
 */
export interface LocalRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /**
   * Tags `localImage` as `<host>/<repoTag>`, pushes it, and removes that local tag again (the source image stays).
   * Returns the pushed reference.
   */
  pushCopy(docker: Dockerode, localImage: string, repoTag: string): Promise<string>;
  /** Stops the registry and deletes its storage. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilServing(host: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get(`http://${host}/v2/`, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.setTimeout(500, () => req.destroy());
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`docker-registry did not serve ${host} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Reads a push/pull progress stream to its end; the engine reports failures as `{"error": ...}` lines. */
async function drainProgress(stream: Readable): Promise<void> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { error?: string };
    if (event.error !== undefined) throw new Error(event.error);
  }
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'horde-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const configPath = path.join(dir, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 10_000) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitUntilServing(host, child, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${(error as Error).message}\n${stderr}`, { cause: error });
  }
  return {
    host,
    async pushCopy(docker, localImage, repoTag) {
      const [repo, tag] = repoTag.split(':') as [string, string | undefined];
      const reference = `${host}/${repo}:${tag ?? 'latest'}`;
      await docker.getImage(localImage).tag({ repo: `${host}/${repo}`, tag: tag ?? 'latest' });
      try {
        // The engine insists on an X-Registry-Auth header for a push, even to a registry without auth.
        const stream = (await docker.getImage(reference).push({ authconfig: { serveraddress: host } })) as unknown as Readable;
        await drainProgress(stream);
      } finally {
        await docker.getImage(reference).remove({ noprune: true }).catch(() => undefined);
      }
      return reference;
    },
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
