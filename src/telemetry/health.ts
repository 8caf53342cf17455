import type { AnyActorRef, Snapshot } from 'xstate';
import { createRouter, respondJson, type Route } from '../http/router';
import { errorCode } from '../util/errors';
import { HEALTHZ_PATH, READY_TAG, READYZ_PATH } from './defaults';

/** The parts of a snapshot health looks at (any actor's snapshot; `value`/`hasTag` exist on machine snapshots). */
export type InspectableSnapshot = Snapshot<unknown> & {
  value?: unknown;
  hasTag?: (tag: string) => boolean;
};

/** The root actor, or a function returning the current one (a role that rebuilds its root passes a getter). */
export type RootActorSource = AnyActorRef | (() => AnyActorRef | undefined);

/** Body of `/healthz` and `/readyz`. */
export interface HealthReport {
  /** `ok` with HTTP 200, `unavailable` with HTTP 503. */
  status: 'ok' | 'unavailable';
  /** The root actor's snapshot status (`active`, `done`, `error`, `stopped`), or `missing` when there is none. */
  actor: string;
  /** The root machine's state value, `null` for other logic or a missing actor. */
  state: unknown;
  /** Stable code of the root's error, when its status is `error`. */
  error?: string;
  /** Why readiness said no, when the role's readiness function gave a reason. */
  reason?: string;
}

/** A role's own readiness rule: `true`/`false`, or an answer with a reason shown in `/readyz`. */
export type Readiness = (snapshot: InspectableSnapshot) => boolean | { ready: boolean; reason?: string };

export interface HealthOptions {
  /** Readiness rule; by default the root is ready while its snapshot has the `ready` tag. */
  readiness?: Readiness;
  /** Paths (defaults `/healthz`, `/readyz`). */
  healthzPath?: string;
  readyzPath?: string;
}

function baseReport(snapshot: InspectableSnapshot | undefined): Omit<HealthReport, 'status'> {
  if (snapshot === undefined) return { actor: 'missing', state: null };
  const report: Omit<HealthReport, 'status'> = { actor: snapshot.status, state: snapshot.value ?? null };
  if (snapshot.status === 'error') report.error = errorCode(snapshot.error);
  return report;
}

/**
 * Liveness: the process answers (we are running this code) and the root actor is neither `error` nor `stopped`.
 * A root that reached `done` is still live: a one-shot role is finishing and about to exit on its own.
 *
 * @example
 * ```ts
 * livenessOf(root.getSnapshot()); // { status: 'ok', actor: 'active', state: 'serving' }
 * ```
 */
export function livenessOf(snapshot: InspectableSnapshot | undefined): HealthReport {
  const live = snapshot !== undefined && snapshot.status !== 'error' && snapshot.status !== 'stopped';
  return { status: live ? 'ok' : 'unavailable', ...baseReport(snapshot) };
}

/** The default readiness rule: an active root machine in a state tagged `ready`. */
export const readyTagReadiness: Readiness = (snapshot) =>
  typeof snapshot.hasTag === 'function' && snapshot.hasTag(READY_TAG);

/**
 * Readiness: live, `active`, and the role's readiness rule agrees.
 *
 * @example
 * ```ts
 * readinessOf(root.getSnapshot(), (s) => ({ ready: s.hasTag?.('serving') === true, reason: 'no executors yet' }));
 * ```
 */
export function readinessOf(
  snapshot: InspectableSnapshot | undefined,
  readiness: Readiness = readyTagReadiness,
): HealthReport {
  const base = baseReport(snapshot);
  if (snapshot === undefined || snapshot.status !== 'active') return { status: 'unavailable', ...base };
  const answer = readiness(snapshot);
  const ready = typeof answer === 'boolean' ? answer : answer.ready;
  const report: HealthReport = { status: ready ? 'ok' : 'unavailable', ...base };
  if (typeof answer !== 'boolean' && answer.reason !== undefined) report.reason = answer.reason;
  return report;
}

function resolveRoot(root: RootActorSource): AnyActorRef | undefined {
  return typeof root === 'function' ? root() : root;
}

/**
 * `/healthz` and `/readyz` for a role, read from its root actor's snapshot on every request (nothing cached, so a
 * failing root flips the answer at once). Both answer JSON {@link HealthReport} with 200 or 503.
 *
 * @example
 * ```ts
 * const root = createActor(minerRootMachine, { input }).start();
 * telemetry.router.use(healthRoutes(root, { readiness: (s) => s.hasTag?.('serving') === true }));
 * ```
 */
export function healthRoutes(root: RootActorSource, options: HealthOptions = {}): Route {
  const snapshotOf = (): InspectableSnapshot | undefined =>
    resolveRoot(root)?.getSnapshot() as InspectableSnapshot | undefined;
  const send = (res: Parameters<Route>[1], report: HealthReport, headOnly: boolean): void =>
    respondJson(res, report.status === 'ok' ? 200 : 503, report, headOnly);
  return createRouter()
    .get(options.healthzPath ?? HEALTHZ_PATH, (req, res) => send(res, livenessOf(snapshotOf()), req.method === 'HEAD'))
    .get(options.readyzPath ?? READYZ_PATH, (req, res) =>
      send(res, readinessOf(snapshotOf(), options.readiness), req.method === 'HEAD'),
    ).route;
}
