import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { silentLogger, type Logger } from '../telemetry/logger';
import { METAGRAPH_FILE_DEBOUNCE_MS, METAGRAPH_FILE_MAX_BYTES, METAGRAPH_FILE_POLL_INTERVAL_MS } from './defaults';
import { MetagraphLoadError } from './errors';
import type { MetagraphMetrics } from './metrics';
import { parseMetagraph, sameContent, type MetagraphContent } from './parse';
import { SnapshotHolder } from './snapshots';
import type { MetagraphProvider, MetagraphValidator } from './types';

/** How one reload attempt ended (also the `outcome` label of `horde_metagraph_reloads_total`). */
export type ReloadOutcome = 'applied' | 'unchanged' | 'invalid' | 'unreadable';

export interface FileMetagraphOptions {
  /** The JSON file (see `parse.ts` for the format). */
  readonly path: string;
  /** @default METAGRAPH_FILE_POLL_INTERVAL_MS */
  readonly pollIntervalMs?: number;
  /** @default METAGRAPH_FILE_DEBOUNCE_MS */
  readonly debounceMs?: number;
  /** @default METAGRAPH_FILE_MAX_BYTES */
  readonly maxBytes?: number;
  readonly metrics?: MetagraphMetrics;
  readonly logger?: Logger;
}

/** A metagraph read from a file that is reloaded whenever the file changes. */
export interface FileMetagraphProvider extends MetagraphProvider {
  readonly path: string;
  /** Reads the file now (what a change event triggers); resolves with what happened. */
  reload(): Promise<ReloadOutcome>;
}

async function readContent(path: string, maxBytes: number): Promise<MetagraphContent> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > maxBytes) throw new MetagraphLoadError(path, [`file is ${info.size} bytes, more than ${maxBytes}`]);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof MetagraphLoadError) throw error;
    throw new MetagraphLoadError(path, [`cannot read: ${(error as Error).message}`], { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MetagraphLoadError(path, [`not JSON: ${(error as Error).message}`], { cause: error });
  }
  const parsed = parseMetagraph(json);
  if (!parsed.ok) throw new MetagraphLoadError(path, parsed.error);
  return parsed.value;
}

async function fingerprint(path: string): Promise<string> {
  try {
    const info = await stat(path, { bigint: true });
    return `${info.ino}:${info.size}:${info.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

/**
 * Loads a metagraph file and keeps it current: `fs.watch` on the file's directory (so that a file replaced by a rename
 * is still seen) with a polling fallback comparing inode, size and mtime. A reload that fails (unreadable, invalid
 * JSON, an invalid entry) keeps the last good snapshot, is logged and counted; the first load must succeed.
 *
 * @example
 * ```ts
 * const metagraph = await createFileMetagraphProvider({ path: '/etc/horde/metagraph.json' });
 * metagraph.subscribe((s) => log.info('metagraph changed', { version: s.version }));
 * // … later
 * await metagraph.close();
 * ```
 */
export async function createFileMetagraphProvider(options: FileMetagraphOptions): Promise<FileMetagraphProvider> {
  const path = resolve(options.path);
  const maxBytes = options.maxBytes ?? METAGRAPH_FILE_MAX_BYTES;
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics;
  const initial = await readContent(path, maxBytes);
  let lastFingerprint = await fingerprint(path);
  const holder = new SnapshotHolder(initial, metrics, (error) =>
    logger.error('metagraph listener failed', { error: (error as Error).message }),
  );

  let closed = false;
  let running: Promise<ReloadOutcome> | undefined;
  let again = false;

  const reloadOnce = async (): Promise<ReloadOutcome> => {
    lastFingerprint = await fingerprint(path);
    let outcome: ReloadOutcome;
    try {
      const content = await readContent(path, maxBytes);
      if (closed) return 'unchanged';
      if (sameContent(content, holder.snapshot)) outcome = 'unchanged';
      else {
        const snapshot = holder.publish(content);
        logger.info('metagraph reloaded', {
          path,
          version: snapshot.version,
          validators: snapshot.validators.size,
          miners: snapshot.miners.size,
        });
        outcome = 'applied';
      }
    } catch (error) {
      const problems = error instanceof MetagraphLoadError ? error.problems : [(error as Error).message];
      outcome = problems.some((p) => p.startsWith('cannot read')) ? 'unreadable' : 'invalid';
      logger.warn('metagraph reload failed; keeping the last good snapshot', { path, problems });
    }
    metrics?.reloads.add(1, { outcome });
    return outcome;
  };

  // Reloads never overlap: a change during a reload schedules exactly one more.
  const reload = (): Promise<ReloadOutcome> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      let outcome = await reloadOnce();
      while (again && !closed) {
        again = false;
        outcome = await reloadOnce();
      }
      running = undefined;
      return outcome;
    })();
    return running;
  };

  let debounce: NodeJS.Timeout | undefined;
  const onChange = (): void => {
    if (closed) return;
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      void reload();
    }, options.debounceMs ?? METAGRAPH_FILE_DEBOUNCE_MS);
    debounce.unref();
  };

  let watcher: FSWatcher | undefined;
  const name = basename(path);
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (filename === null || filename.toString() === name) onChange();
    });
    watcher.on('error', (error) => {
      logger.warn('metagraph file watcher failed; polling only', { path, error: error.message });
      watcher?.close();
      watcher = undefined;
    });
  } catch (error) {
    logger.warn('cannot watch the metagraph file; polling only', { path, error: (error as Error).message });
  }

  const poll = setInterval(() => {
    void fingerprint(path).then((current) => {
      if (!closed && current !== lastFingerprint) onChange();
    });
  }, options.pollIntervalMs ?? METAGRAPH_FILE_POLL_INTERVAL_MS);
  poll.unref();

  return {
    path,
    snapshot: () => holder.snapshot,
    validator: (hotkey: string): MetagraphValidator | undefined => holder.snapshot.validators.get(hotkey),
    subscribe: (listener) => holder.subscribe(listener),
    reload,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(poll);
      if (debounce !== undefined) clearTimeout(debounce);
      watcher?.close();
      await running;
      holder.dispose();
    },
  };
}
