import Dockerode from 'dockerode';
import { DOCKER_EXECUTOR_IMAGE, EXECUTOR_CONTAINER_ROLE } from '../defaults';
import { ExecutorSpawnError, MinerConfigError } from '../errors';
import { LABEL_MANAGED, LABEL_TOKEN, sweepTokenContainers } from './sweep';
import type { ExecutorBackend, ExecutorExit, ExecutorHandle, SpawnRequest } from './types';

/** One Docker engine executors may run on. */
export interface DockerEngine {
  /** Shown in logs and the `horde.engine` label; unique. */
  readonly name: string;
  readonly docker: Dockerode;
  /** Host name streaming clients can reach executors on (for a remote engine); undefined for the local one. */
  readonly publicAddress: string | undefined;
}

export interface DockerBackendOptions {
  /** Engines to spread executors over; each new executor goes to the one running the fewest. */
  readonly engines: readonly DockerEngine[];
  /** Image containing the executor. @default DOCKER_EXECUTOR_IMAGE */
  readonly image?: string;
  /** Command of the executor container (the image's default when absent). */
  readonly cmd?: readonly string[];
  /** `MINER_ADDRESS` given to every executor. */
  readonly minerAddress: string;
  /** Extra environment for every executor. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Bind mounts of the executor container. Default: the engine's Docker socket and `/tmp`, as upstream (the executor
   * starts its job container as a sibling on the same engine).
   */
  readonly binds?: readonly string[];
  /** Network of the executor container; `host` lets `MINER_ADDRESS=ws://127.0.0.1:…` work on a local engine. */
  readonly networkMode?: string;
  /** `horde.id` label of the executor containers. */
  readonly hordeId: string;
}

/**
 * Dockerode options for an engine address: `unix:///var/run/docker.sock` (or a bare path), `tcp://host:2375`,
 * `http://host:2375`, `https://host:2376`, `ssh://user@host[:port]`. Throws {@link MinerConfigError} otherwise.
 *
 * @example
 * ```ts
 * dockerOptionsFromAddress('tcp://10.0.0.5:2375'); // { host: '10.0.0.5', port: 2375, protocol: 'http' }
 * ```
 */
export function dockerOptionsFromAddress(address: string): Dockerode.DockerOptions {
  if (address.startsWith('/')) return { socketPath: address };
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new MinerConfigError([`docker engine "${address}" is not a URL or a socket path`]);
  }
  const port = url.port === '' ? undefined : Number(url.port);
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: decodeURIComponent(url.pathname) };
    case 'tcp:':
    case 'http:':
      return { host: url.hostname, port: port ?? 2375, protocol: 'http' };
    case 'https:':
      return { host: url.hostname, port: port ?? 2376, protocol: 'https' };
    case 'ssh:':
      return {
        host: url.hostname,
        port: port ?? 22,
        protocol: 'ssh',
        ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
      };
    default:
      throw new MinerConfigError([`docker engine "${address}": unsupported scheme ${url.protocol}`]);
  }
}

/** Index of the engine with the fewest running executors (the first of equals): spreads load across hosts. */
export function leastLoaded(load: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < load.length; i++) if (load[i]! < load[best]!) best = i;
  return best;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/**
 * Executors as containers on one or several Docker engines (upstream's DockerExecutorManager, with remote engines as
 * dockerode addresses instead of SSH tunnels). Every container is labelled `horde.managed=true`, `horde.role=executor`,
 * `horde.token`, `horde.job_uuid`, `horde.executor_class`, `horde.engine` and `horde.id`, is named
 * `horde-executor-<token>`, and is not auto-removed: the miner reads its exit code, then `sweep` removes it together
 * with any job container it left.
 *
 * @example
 * ```ts
 * const backend = dockerBackend({ engines: [{ name: 'local', docker: new Dockerode(), publicAddress: undefined }],
 *   image: 'horde-executor:local', minerAddress: 'ws://127.0.0.1:8000', networkMode: 'host', hordeId: 'miner-1' });
 * ```
 */
export function dockerBackend(options: DockerBackendOptions): ExecutorBackend {
  if (options.engines.length === 0) throw new MinerConfigError(['the docker backend needs at least one engine']);
  const load = options.engines.map(() => 0);
  const image = options.image ?? DOCKER_EXECUTOR_IMAGE;

  return {
    name: 'docker',
    async spawn(request: SpawnRequest, signal: AbortSignal): Promise<ExecutorHandle> {
      const index = leastLoaded(load);
      const engine = options.engines[index]!;
      load[index]! += 1;
      let released = false;
      const release = (): void => {
        if (!released) load[index]! -= 1;
        released = true;
      };
      let container: Dockerode.Container | undefined;
      try {
        container = await engine.docker.createContainer({
          name: `horde-executor-${request.token}`,
          Image: image,
          ...(options.cmd === undefined ? {} : { Cmd: [...options.cmd] }),
          Env: Object.entries({ ...options.env, MINER_ADDRESS: options.minerAddress, EXECUTOR_TOKEN: request.token }).map(
            ([key, value]) => `${key}=${value}`,
          ),
          Labels: {
            [LABEL_MANAGED]: 'true',
            'horde.role': EXECUTOR_CONTAINER_ROLE,
            [LABEL_TOKEN]: request.token,
            'horde.job_uuid': request.jobUuid,
            'horde.executor_class': request.executorClass,
            'horde.engine': engine.name,
            'horde.id': options.hordeId,
          },
          HostConfig: {
            AutoRemove: false,
            Binds: [...(options.binds ?? ['/var/run/docker.sock:/var/run/docker.sock', '/tmp:/tmp'])],
            ...(options.networkMode === undefined ? {} : { NetworkMode: options.networkMode }),
          },
          abortSignal: signal,
        });
        if (signal.aborted) throw new ExecutorSpawnError('docker', 'aborted while creating');
        await container.start({ abortSignal: signal } as object);
        if (signal.aborted) throw new ExecutorSpawnError('docker', 'aborted while starting');
      } catch (error) {
        release();
        // Whatever was half-made goes; the caller hears the original failure.
        if (container !== undefined) await container.remove({ force: true }).catch(() => undefined);
        if (error instanceof ExecutorSpawnError) throw error;
        throw new ExecutorSpawnError('docker', `${engine.name}: ${(error as Error).message}`, { cause: error });
      }
      const started = container;
      const exited: Promise<ExecutorExit> = started.wait().then(
        (result: { StatusCode?: number }) => ({ code: result.StatusCode ?? null, signal: null }),
        () => ({ code: null, signal: null }),
      );
      let gone = false;
      // Aborted after it started but before the caller took the handle (the caller gave up): nobody owns it.
      const onAbort = (): void => void started.remove({ force: true }).catch(() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      void exited.then(() => {
        gone = true;
        release();
        signal.removeEventListener('abort', onAbort);
      });
      const signalContainer = async (name: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
        try {
          await started.kill({ signal: name });
        } catch {
          // 404 gone, 409 not running: nothing to signal.
        }
      };
      return {
        id: started.id,
        location: engine.name,
        publicAddress: engine.publicAddress,
        exited,
        async isAlive(aliveSignal) {
          if (gone) return false;
          try {
            const info = await started.inspect({ abortSignal: aliveSignal } as object);
            return info.State.Running || info.State.Restarting;
          } catch (error) {
            return statusOf(error) !== 404;
          }
        },
        terminate: () => (gone ? Promise.resolve() : signalContainer('SIGTERM')),
        kill: () => (gone ? Promise.resolve() : signalContainer('SIGKILL')),
        sweep: (sweepSignal) => sweepTokenContainers(engine.docker, request.token, sweepSignal),
      };
    },
    killAllSync() {
      // The Docker API is asynchronous: nothing can be done synchronously. Containers are labelled, so
      // `docker rm -f $(docker ps -aq -f label=horde.role=executor -f label=horde.id=…)` finds leftovers.
    },
    close: () => Promise.resolve(),
  };
}
