export type { ExecutorBackend, ExecutorExit, ExecutorHandle, SpawnRequest } from './types';
export { childProcessBackend, type ChildProcessBackendOptions } from './childProcess';
export { dockerBackend, dockerOptionsFromAddress, leastLoaded, type DockerBackendOptions, type DockerEngine } from './docker';
export { noopBackend } from './noop';
export { LABEL_MANAGED, LABEL_TOKEN, sweepTokenContainers } from './sweep';
export { standbyTokenLine } from './childProcess';
export { StandbyPool, failuresAfterEnd, replacementDelayMs, type PoolTimers, type StandbyEffects, type StandbyPoolOptions } from './standbyPool';
export { createBackendMetrics, type BackendMetrics } from './metrics';
