/**
 * The manifest fetcher's lifecycle (upstream `sync_manifests`, computehorde-upstream.md §3.3): idle → fetching a
 * round (every serving miner once) → idle for `intervalMs` → fetching … and, when told to stop, stopping (in-flight
 * dials are aborted and their sockets drained) → stopped.
 *
 * Pure: the round itself (`fetchRound`) and the drain (`drain`) are actors provided by the wiring
 * (src/actors/validator/manifestFetcher.ts). The interval runs on XState's clock.
 */
import { assign, emit, fromPromise, setup, type ActorRefFrom } from 'xstate';

/** How one miner's fetch ended in a round. */
export interface MinerFetchReport {
  readonly hotkey: string;
  /** `fetched`: manifest stored. `failed`: every attempt failed. `skipped`: its breaker was open. */
  readonly outcome: 'fetched' | 'failed' | 'skipped';
  /** `ok`, `circuit_open`, or the error code of the last attempt (`manifest.timeout`, `manifest.connect_failed`…). */
  readonly reason: string;
  readonly durationMs: number;
}

/** What one round did. */
export interface RoundReport {
  /** 1 for the first round. */
  readonly round: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** Serving miners in the metagraph at the start of the round. */
  readonly miners: number;
  readonly fetched: number;
  readonly failed: number;
  readonly skipped: number;
  /** The round was cut short by a stop; unsettled miners are reported `failed` with reason `cancelled`. */
  readonly cancelled: boolean;
  /** One entry per serving miner. */
  readonly results: readonly MinerFetchReport[];
}

export interface ManifestFetcherInput {
  /** Pause between the end of one round and the start of the next. */
  readonly intervalMs: number;
  /** Fetch at once on start (the validator needs manifests before it can route). @default true */
  readonly fetchOnStart?: boolean;
}

/** Events the fetcher accepts. */
export type ManifestFetcherEvent =
  /** Run a round now (or right after the one in flight). */
  | { readonly type: 'manifestFetcher.round.request' }
  /** Abort the round in flight, drain its sockets, stop. */
  | { readonly type: 'manifestFetcher.stop' };

/** Events the fetcher emits (`actor.on(...)`). */
export type ManifestFetcherEmitted =
  | { readonly type: 'manifestFetcher.round.started'; readonly round: number }
  | { readonly type: 'manifestFetcher.round.finished'; readonly round: number; readonly report: RoundReport }
  | { readonly type: 'manifestFetcher.round.failed'; readonly round: number; readonly error: unknown };

export interface ManifestFetcherContext {
  readonly intervalMs: number;
  /** Rounds started so far (the round in flight, while fetching). */
  readonly round: number;
  /** A round was asked for while one was in flight (or at start): run it as soon as the current one ends. */
  readonly requested: boolean;
  readonly lastReport: RoundReport | undefined;
  /** Rounds whose actor failed (a bug or a bad input: a round reports miner failures, it does not fail on them). */
  readonly failedRounds: number;
}

/**
 * The manifest fetcher as a machine; provide `fetchRound` and `drain`.
 *
 * @example
 * ```ts
 * const logic = manifestFetcherMachine.provide({
 *   actors: { fetchRound: fromPromise(({ input, signal }) => runRound(input.round, signal)), drain: fromPromise(() => sockets.drained()) },
 * });
 * const actor = createActor(logic, { input: { intervalMs: 60_000 } }).start();
 * ```
 */
export const manifestFetcherMachine = setup({
  types: {
    input: {} as ManifestFetcherInput,
    context: {} as ManifestFetcherContext,
    events: {} as ManifestFetcherEvent,
    emitted: {} as ManifestFetcherEmitted,
  },
  actors: {
    fetchRound: fromPromise<RoundReport, { round: number }>(() =>
      Promise.reject(new Error('manifestFetcherMachine: actor "fetchRound" is not provided')),
    ),
    drain: fromPromise<void>(() => Promise.resolve()),
  },
  guards: {
    requested: ({ context }) => context.requested,
  },
  delays: {
    interval: ({ context }) => context.intervalMs,
  },
}).createMachine({
  id: 'manifestFetcher',
  context: ({ input }) => ({
    intervalMs: input.intervalMs,
    round: 0,
    requested: input.fetchOnStart ?? true,
    lastReport: undefined,
    failedRounds: 0,
  }),
  initial: 'idle',
  on: {
    'manifestFetcher.stop': '.stopping',
  },
  states: {
    // Between rounds: the next one starts when the interval elapses or a round is asked for.
    idle: {
      always: { guard: 'requested', target: 'fetching' },
      after: { interval: 'fetching' },
      on: { 'manifestFetcher.round.request': 'fetching' },
    },
    // One round in flight: every serving miner is dialled once (bounded pool); a request now queues the next round.
    fetching: {
      entry: [
        assign({ round: ({ context }) => context.round + 1, requested: false }),
        emit(({ context }) => ({ type: 'manifestFetcher.round.started' as const, round: context.round })),
      ],
      invoke: {
        src: 'fetchRound',
        input: ({ context }) => ({ round: context.round }),
        onDone: {
          target: 'idle',
          actions: [
            assign({ lastReport: ({ event }) => event.output }),
            emit(({ context, event }) => ({
              type: 'manifestFetcher.round.finished' as const,
              round: context.round,
              report: event.output,
            })),
          ],
        },
        onError: {
          target: 'idle',
          actions: [
            assign({ failedRounds: ({ context }) => context.failedRounds + 1 }),
            emit(({ context, event }) => ({
              type: 'manifestFetcher.round.failed' as const,
              round: context.round,
              error: event.error,
            })),
          ],
        },
      },
      on: { 'manifestFetcher.round.request': { actions: assign({ requested: true }) } },
    },
    // Asked to stop: the round in flight (if any) was stopped, which aborted its dials; wait for their sockets.
    stopping: {
      on: { 'manifestFetcher.stop': {} },
      invoke: { src: 'drain', onDone: 'stopped', onError: 'stopped' },
    },
    // Nothing in flight, no timer. Final.
    stopped: { type: 'final' },
  },
});

export type ManifestFetcherActor = ActorRefFrom<typeof manifestFetcherMachine>;
