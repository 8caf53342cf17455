/**
 * The seams between the validator's parts (facilitator link + durable outbox, job dispatcher, organic job actors,
 * router, manifest fetcher). Each part is built and tested alone against these interfaces; `validator.ts` wires them.
 */
import type { ExecutorClass, V0JobStatusUpdate, V2JobRequest } from '../../protocol';

/** Where a validator dials a miner: `ws://{address}:{port}/v0.1/validator_interface/{validatorHotkey}`. */
export interface MinerEndpoint {
  readonly hotkey: string;
  readonly address: string;
  readonly port: number;
}

/** The router's answer for one job. */
export interface JobRoute {
  readonly miner: MinerEndpoint;
  /** Routed by the trusted-miner override (`on_trusted_miner`, or the configured trusted miner). */
  readonly trusted: boolean;
}

/**
 * Statuses leave the validator only through this. The durable outbox implements it: `report` writes the update to
 * SQLite synchronously before returning, so a status reported is never lost, even if the process dies right after.
 * It throws a `HordeError` only when the disk write fails.
 */
export interface StatusSink {
  report(update: V0JobStatusUpdate): void;
}

/** Executor count per class, as a miner announced it (`V0ExecutorManifestRequest`). */
export type ManifestCounts = Readonly<Partial<Record<ExecutorClass, number>>>;

/** The latest manifest of one miner. */
export interface ManifestEntry {
  readonly hotkey: string;
  readonly manifest: ManifestCounts;
  /** Wall-clock time (ms) of the successful fetch. */
  readonly fetchedAtMs: number;
}

/** Read side of the manifest fetcher: the latest successful manifest per miner, with its age. */
export interface ManifestBook {
  get(hotkey: string): ManifestEntry | undefined;
  /** Every miner whose manifest was fetched at or after `sinceMs`. */
  freshSince(sinceMs: number): ManifestEntry[];
}

/** Why a miner's reliability went down (upstream's `SystemEvent` incident kinds, folded). */
export type IncidentKind = 'job_rejected' | 'job_failed' | 'horde_failed' | 'timed_out' | 'connection_failed' | 'cheated';

/** Recent incidents per (miner, class): lower a miner's routing weight (upstream: incidents in the last 24 h). */
export interface ReliabilityLedger {
  recordIncident(hotkey: string, executorClass: ExecutorClass, kind: IncidentKind, atMs: number): void;
  /** Incidents for (miner, class) at or after `sinceMs`. */
  incidents(hotkey: string, executorClass: ExecutorClass, sinceMs: number): number;
}

/** Executors we know to be busy on a miner: our own running jobs (begin/end) per (miner, class). */
export interface BusyTracker {
  begin(jobUuid: string, hotkey: string, executorClass: ExecutorClass): void;
  /** Idempotent. */
  end(jobUuid: string): void;
  busy(hotkey: string, executorClass: ExecutorClass): number;
}

/** One miner the router passed over, and why (logged, and counted in metrics). */
export interface RouteSkip {
  readonly hotkey: string;
  readonly why: 'no_manifest' | 'stale_manifest' | 'no_capacity' | 'class_not_offered' | 'circuit_open' | 'not_serving';
}

export type RouteDecision =
  | { readonly ok: true; readonly route: JobRoute }
  | { readonly ok: false; readonly reason: 'no_miner_for_job'; readonly message: string; readonly skipped: readonly RouteSkip[] };

/** Picks a miner for a job (section 3.8 of the spec, without allowance). */
export interface JobRouter {
  pick(request: V2JobRequest, nowMs: number): RouteDecision;
}

/** Per-miner circuit state as the router needs it: `true` when the miner may be dialled now. */
export interface MinerAvailability {
  isAvailable(hotkey: string, nowMs: number): boolean;
  /** A job connection to the miner failed (feeds the same breaker the manifest fetcher uses). */
  recordFailure(hotkey: string, nowMs: number): void;
  recordSuccess(hotkey: string, nowMs: number): void;
}

/** How an organic job actor ended (its output). The status itself has already gone to the `StatusSink`. */
export interface OrganicJobOutcome {
  readonly jobUuid: string;
  readonly minerHotkey: string;
  readonly status: 'completed' | 'failed' | 'rejected' | 'horde_failed';
  /** A busy decline covered by enough valid excuse receipts: no incident. */
  readonly excused: boolean;
  /** What to hold against the miner, if anything. */
  readonly incident: IncidentKind | undefined;
}
