import type Dockerode from 'dockerode';

/** Label every Horde container carries. */
export const LABEL_MANAGED = 'horde.managed';
/** Label with the executor token: the executor's job containers carry it (and the Docker backend's executor containers). */
export const LABEL_TOKEN = 'horde.token';

/**
 * Force-removes every Horde container labelled with `token` on one Docker engine: what an executor that died without
 * cleaning up (SIGKILL, OOM) left behind. A container already gone is not an error. Resolves with how many were
 * removed.
 *
 * @example
 * ```ts
 * const removed = await sweepTokenContainers(docker, token, signal);
 * ```
 */
export async function sweepTokenContainers(docker: Dockerode, token: string, signal: AbortSignal): Promise<number> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_TOKEN}=${token}`] },
    abortSignal: signal,
  } as Dockerode.ContainerListOptions);
  let removed = 0;
  await Promise.all(
    containers.map(async (info) => {
      try {
        await docker.getContainer(info.Id).remove({ force: true, abortSignal: signal } as object);
        removed += 1;
      } catch (error) {
        const status = (error as { statusCode?: number }).statusCode;
        // 404: already gone; 409: removal already in progress. Both mean it is going away.
        if (status !== 404 && status !== 409) throw error;
      }
    }),
  );
  return removed;
}
