import { createWriteStream, type WriteStream } from 'node:fs';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import WebSocket from 'ws';
import type { InspectionEvent, Observer } from 'xstate';
import { fullJitterDelayMs, type BackoffPolicy } from '../util/backoff';
import { systemRandom, type Random } from '../util/clock';
import { combineInspectors } from './actor-bridge';
import {
  DEFAULT_INSPECTOR_BUFFERED_EVENTS,
  DEFAULT_INSPECTOR_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_INSPECTOR_RECONNECT,
  DEFAULT_RECORDER_MAX_BUFFERED_BYTES,
  INSPECT_FILE_ENV,
  INSPECT_URL_ENV,
} from './defaults';
import { InspectorConfigError } from './errors';
import { createInspectorInstruments, type InspectorInstruments } from './metrics';
import { sanitize, type SanitizeOptions } from './sanitize';

/*
 * Stately inspector wiring. Events are converted to the Stately format by `@statelyai/inspect`'s `createInspector`
 * and handed to one of two sinks written here:
 *  - a websocket sink that talks to an inspector bridge (`startInspectorBridge`, or the Stately tooling's own).
 *    It replaces `createWebSocketInspector`, whose adapter retries every 5 s forever once the bridge is unreachable
 *    and whose `stop()` does not cancel the pending retry: a stopped process stayed alive (toolchain.md §6). Ours
 *    backs off with unref'd timers, terminates its socket on `stop()`, and buffers a bounded number of events.
 *  - a JSONL file recorder, fully offline.
 * Every event is sanitized first: fields named like secrets are redacted, including inside the machine definition
 * that `@xstate.actor` events carry (it holds the config's initial context).
 */

/**
 * `@statelyai/inspect`, loaded on first use: it is ESM-only (loaded through require(esm)) and pulls in several
 * packages, and inspection is off by default, so a role that never inspects never loads it.
 */
function statelyCreateInspector(): typeof import('@statelyai/inspect').createInspector {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
  return (require('@statelyai/inspect') as typeof import('@statelyai/inspect')).createInspector;
}

/** A running inspector: pass `inspect` to `createActor(root, { inspect })`; `stop()` on shutdown. */
export interface HordeInspector {
  readonly inspect: Observer<InspectionEvent>;
  /** Delivers what is already queued (file), closes sockets and timers; afterwards nothing keeps the process alive. */
  stop(): Promise<void>;
}

/** Where the websocket sink is. */
export type BridgeConnectionState = 'connecting' | 'open' | 'waiting' | 'stopped';

export interface BridgeInspector extends HordeInspector {
  connectionState(): BridgeConnectionState;
  /** Failed connection attempts since the last successful one. */
  failedAttempts(): number;
}

interface CommonOptions {
  sanitize?: SanitizeOptions;
  instruments?: InspectorInstruments;
  /** Receives sink failures (file errors); default `process.emitWarning`. */
  onError?: (error: unknown) => void;
}

/** A Stately event made safe to leave the process: deep copy, secrets redacted, definition re-serialized. */
export function sanitizeInspectionEvent(
  event: StatelyInspectionEvent,
  options: SanitizeOptions = {},
): StatelyInspectionEvent {
  const copy = sanitize(event, options) as StatelyInspectionEvent;
  if (copy.type === '@xstate.actor' && typeof copy.definition === 'string') {
    try {
      copy.definition = JSON.stringify(sanitize(JSON.parse(copy.definition) as unknown, options));
    } catch {
      // Unparseable means we cannot vouch for it: the diagram loses its definition rather than leak a secret.
      copy.definition = undefined;
    }
  }
  return copy;
}

function warn(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : String(error));
}

/** Lets the idle callbacks `@statelyai/inspect` already scheduled (setTimeout 0) reach the sink. */
function afterPendingInspection(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

export interface BridgeInspectorOptions extends CommonOptions {
  /** `ws://127.0.0.1:8080` */
  url: string;
  maxBufferedEvents?: number;
  reconnect?: BackoffPolicy;
  handshakeTimeoutMs?: number;
  random?: Random;
}

class BridgeSocketSink {
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempts = 0;
  private stopped = false;
  private buffer: string[] = [];
  private readonly dropBufferFull = { sink: 'websocket', reason: 'buffer_full' };
  private readonly dropStopped = { sink: 'websocket', reason: 'stopped' };

  constructor(
    private readonly options: Required<Pick<BridgeInspectorOptions, 'url' | 'reconnect' | 'random'>> & {
      maxBufferedEvents: number;
      handshakeTimeoutMs: number;
      instruments: InspectorInstruments;
    },
  ) {}

  state(): BridgeConnectionState {
    if (this.stopped) return 'stopped';
    if (this.socket?.readyState === WebSocket.OPEN) return 'open';
    if (this.timer !== undefined) return 'waiting';
    return 'connecting';
  }

  failedAttempts(): number {
    return this.attempts;
  }

  start(): void {
    if (this.stopped || this.socket !== undefined || this.timer !== undefined) return;
    this.connect();
  }

  private connect(): void {
    this.timer = undefined;
    const socket = new WebSocket(this.options.url, { handshakeTimeout: this.options.handshakeTimeoutMs });
    this.socket = socket;
    socket.on('open', () => {
      this.attempts = 0;
      for (const text of this.buffer.splice(0)) socket.send(text);
    });
    // 'close' always follows 'error'; the reconnect is decided there. Without a listener ws would throw.
    socket.on('error', () => undefined);
    // The bridge relays other processes' events to every client; we only send.
    socket.on('message', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    this.attempts += 1;
    const delayMs = Math.max(1, fullJitterDelayMs(this.options.reconnect, this.attempts, this.options.random));
    this.timer = setTimeout(() => this.connect(), delayMs);
    // A debugging aid must never be what keeps a process alive.
    this.timer.unref();
  }

  send(event: StatelyInspectionEvent): void {
    if (this.stopped) {
      this.options.instruments.dropped.add(1, this.dropStopped);
      return;
    }
    const text = JSON.stringify(event);
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(text);
      return;
    }
    if (this.buffer.length >= this.options.maxBufferedEvents) {
      this.buffer.shift();
      this.options.instruments.dropped.add(1, this.dropBufferFull);
    }
    this.buffer.push(text);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.terminate();
    this.socket = undefined;
    this.buffer = [];
  }
}

/**
 * Sends every actor's events to an inspector bridge over a websocket (see `startInspectorBridge`). Reconnects with
 * jittered backoff on unref'd timers while the bridge is away, holding at most `maxBufferedEvents` events.
 *
 * @example
 * ```ts
 * const inspector = createBridgeInspector({ url: 'ws://127.0.0.1:8080' });
 * const root = createActor(rootMachine, { inspect: inspector.inspect }).start();
 * // ... on shutdown:
 * root.stop(); await inspector.stop();
 * ```
 */
export function createBridgeInspector(options: BridgeInspectorOptions): BridgeInspector {
  const url = validateInspectorUrl(options.url);
  const sink = new BridgeSocketSink({
    url,
    reconnect: options.reconnect ?? DEFAULT_INSPECTOR_RECONNECT,
    random: options.random ?? systemRandom,
    maxBufferedEvents: options.maxBufferedEvents ?? DEFAULT_INSPECTOR_BUFFERED_EVENTS,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_INSPECTOR_HANDSHAKE_TIMEOUT_MS,
    instruments: options.instruments ?? createInspectorInstruments(),
  });
  const inspector = statelyCreateInspector()(
    { start: () => sink.start(), stop: () => sink.stop(), send: (event) => sink.send(event) },
    { serialize: (event) => sanitizeInspectionEvent(event, options.sanitize), autoStart: false },
  );
  inspector.start();
  let stopping: Promise<void> | undefined;
  return {
    inspect: inspector.inspect,
    connectionState: () => sink.state(),
    failedAttempts: () => sink.failedAttempts(),
    stop() {
      stopping ??= afterPendingInspection().then(() => inspector.stop());
      return stopping;
    },
  };
}

export interface FileInspectorOptions extends CommonOptions {
  /** JSONL file, appended to (created if missing). */
  path: string;
  maxBufferedBytes?: number;
}

/**
 * Records every actor's events as Stately-format JSONL (one event per line), offline. Secrets are redacted by
 * field name; pass secrets to actors through `input` (redacted in snapshots) and never in a machine's config.
 *
 * @example
 * ```ts
 * const recorder = createFileInspector({ path: '/tmp/miner.inspect.jsonl' });
 * createActor(root, { inspect: recorder.inspect }).start();
 * ```
 */
export function createFileInspector(options: FileInspectorOptions): HordeInspector {
  const instruments = options.instruments ?? createInspectorInstruments();
  const onError = options.onError ?? warn;
  const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_RECORDER_MAX_BUFFERED_BYTES;
  const stream: WriteStream = createWriteStream(options.path, { flags: 'a' });
  let failed = false;
  let stopped = false;
  stream.on('error', (error) => {
    failed = true;
    onError(error);
  });
  const dropBackpressure = { sink: 'file', reason: 'backpressure' };
  const dropClosed = { sink: 'file', reason: 'closed' };

  const inspector = statelyCreateInspector()(
    {
      send(event) {
        if (stopped || failed) {
          instruments.dropped.add(1, dropClosed);
          return;
        }
        if (stream.writableLength > maxBufferedBytes) {
          instruments.dropped.add(1, dropBackpressure);
          return;
        }
        stream.write(`${JSON.stringify(event)}\n`);
      },
    },
    { serialize: (event) => sanitizeInspectionEvent(event, options.sanitize) },
  );
  let stopping: Promise<void> | undefined;
  return {
    inspect: inspector.inspect,
    stop() {
      stopping ??= afterPendingInspection().then(
        () =>
          new Promise<void>((resolve) => {
            stopped = true;
            if (failed) {
              stream.destroy();
              resolve();
              return;
            }
            stream.end(() => resolve());
          }),
      );
      return stopping;
    },
  };
}

/** Checks an inspector bridge URL (`ws:` or `wss:`), returning it normalised. */
export function validateInspectorUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InspectorConfigError(`inspector URL ${JSON.stringify(url)} is not a URL (expected ws://HOST:PORT)`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
    throw new InspectorConfigError(`inspector URL ${JSON.stringify(url)} must start with ws:// or wss://`);
  return parsed.toString();
}

export interface InspectorsOptions extends CommonOptions {
  /** Bridge URL (`--inspect`, `HORDE_INSPECT`). */
  url?: string;
  /** JSONL recording path (`HORDE_INSPECT_FILE`). */
  file?: string;
}

/**
 * The inspectors asked for, combined; `undefined` when none is (the default: inspection costs nothing then).
 *
 * @example
 * ```ts
 * const inspector = createInspectors({ url: flags.inspect, file: flags.inspectFile });
 * createActor(root, { inspect: combineInspectors(bridge.inspect, inspector?.inspect) });
 * ```
 */
export function createInspectors(options: InspectorsOptions): HordeInspector | undefined {
  const parts: HordeInspector[] = [];
  if (options.url !== undefined && options.url !== '') parts.push(createBridgeInspector({ ...options, url: options.url }));
  if (options.file !== undefined && options.file !== '')
    parts.push(createFileInspector({ ...options, path: options.file }));
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  return {
    inspect: combineInspectors(...parts.map((p) => p.inspect))!,
    async stop() {
      await Promise.all(parts.map((p) => p.stop()));
    },
  };
}

/**
 * Inspectors from the environment: `HORDE_INSPECT=ws://127.0.0.1:PORT` sends to a bridge, and
 * `HORDE_INSPECT_FILE=path` records JSONL. Neither set: `undefined`. A malformed URL throws
 * `telemetry.inspector_config` at start-up rather than silently inspecting nothing.
 *
 * @example
 * ```ts
 * const inspector = inspectorFromEnv();
 * const root = createActor(rootMachine, { inspect: combineInspectors(bridge.inspect, inspector?.inspect) });
 * ```
 */
export function inspectorFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: CommonOptions = {},
): HordeInspector | undefined {
  return createInspectors({ ...options, url: env[INSPECT_URL_ENV], file: env[INSPECT_FILE_ENV] });
}
