/**
 * The metagraph, as far as Horde needs it: which validators are known and active, where miners listen. A provider
 * interface plus a file-backed provider that reloads on change (the chain is out of reach) and an in-memory one.
 */
export type { MetagraphMiner, MetagraphProvider, MetagraphSnapshot, MetagraphValidator } from './types';
export { parseMetagraph, sameContent, type MetagraphContent } from './parse';
export { createFileMetagraphProvider, type FileMetagraphOptions, type FileMetagraphProvider, type ReloadOutcome } from './fileProvider';
export { staticMetagraphProvider, type StaticMetagraphProvider } from './staticProvider';
export { createMetagraphMetrics, type MetagraphMetrics } from './metrics';
export { MetagraphLoadError } from './errors';
export * from './defaults';
