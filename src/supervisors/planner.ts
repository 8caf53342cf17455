/**
 * The supervisor's bookkeeping as pure functions: given its children table, an event and the time, what changes
 * and which effects to run. `supervisor.machine.ts` turns the effects into XState actions; nothing here touches an
 * actor, a timer or a clock.
 *
 * Vocabulary:
 * - a child record is `running` (its actor is alive), `stopping` (it was sent `supervisor.shutdown` and its
 *   shutdown deadline is armed) or `waiting` (its actor is gone and a restart of its group is pending);
 * - a restart group is the set of children one failure brings down (the failed child under `one_for_one`, all of
 *   them under `one_for_all`, the failed one and the later ones under `rest_for_one`). Its living members are
 *   stopped one at a time, latest started first; when all are down its backoff timer is armed; when that is due
 *   they start again in start order. Under the two group strategies overlapping failures merge into one group.
 */
import type { Random } from '../util/clock';
import { decide, exitCode, type ChildExit } from './decider';
import { ChildStartError, type EscalationReason } from './errors';
import { childSpecProblems, type ChildSpec, type Directive, type SupervisorPolicy } from './policy';
import { nextRestartAttempt, restartDelayMs } from './restartBackoff';
import { recordRestart } from './restartWindow';

export type ChildPhase = 'running' | 'stopping' | 'waiting';

export interface ChildRecord {
  readonly spec: ChildSpec;
  readonly phase: ChildPhase;
  /** Once a `stopping` child is down: forget it (`remove`) or keep it `waiting` for its group's restart. */
  readonly afterStop: 'remove' | 'restart';
  /** Consecutive restarts, for the backoff (reset after `resetAfterMs` of healthy running). */
  readonly attempts: number;
  readonly startedAtMs: number;
  /** Recent resumes (see `resume` in the machine's TSDoc); empty unless the decider resumes this child. */
  readonly resumes: readonly number[];
}

export interface RestartGroup {
  /** Also the id of its backoff timer. */
  readonly key: string;
  readonly ids: readonly string[];
  readonly delayMs: number;
  /** The backoff timer is running (every member is down). */
  readonly armed: boolean;
}

export interface Escalation {
  readonly childId: string;
  readonly reason: EscalationReason;
  readonly cause: unknown;
}

/** The part of the supervisor's context this module owns. */
export interface SupervisionState {
  /** In start order (OTP's child list order: a restarted child keeps its place). */
  readonly children: readonly ChildRecord[];
  /** Restart timestamps inside the intensity window. */
  readonly restarts: readonly number[];
  readonly groups: readonly RestartGroup[];
  /** Set once the supervisor has decided to give up. */
  readonly escalation: Escalation | undefined;
}

export interface DecisionReport {
  readonly childId: string;
  readonly directive: Directive;
  readonly errorCode: string;
  readonly restartInMs?: number;
}

export type StartStopRequest = 'start_child' | 'stop_child';

export type Effect =
  /** Spawn the child's actor (under `spec.id`, with its `systemId` and `input`). */
  | { readonly kind: 'spawn'; readonly spec: ChildSpec }
  /** Send it `{ type: 'supervisor.shutdown' }` and arm its shutdown deadline. */
  | { readonly kind: 'ask_shutdown'; readonly childId: string; readonly shutdownMs: number }
  /** Stop the actor by force, or release the reference of one that already ended. */
  | { readonly kind: 'stop'; readonly childId: string }
  | { readonly kind: 'cancel'; readonly timerId: string }
  | { readonly kind: 'arm_restart'; readonly key: string; readonly delayMs: number }
  | { readonly kind: 'decision'; readonly decision: DecisionReport }
  /** A child started again after a restart decision (metrics). */
  | { readonly kind: 'restarted'; readonly childId: string }
  | {
      readonly kind: 'rejected';
      readonly request: StartStopRequest;
      readonly childId: string;
      readonly reason: string;
    };

export interface Plan {
  readonly state: SupervisionState;
  readonly effects: readonly Effect[];
}

export interface PlanEnv {
  readonly policy: SupervisorPolicy;
  /** Children held at most; `start_child` beyond it is rejected. */
  readonly maxChildren: number;
  readonly nowMs: number;
  readonly random: Random;
  /** True when an actor other than this child's current one holds `systemId` in the actor system. */
  readonly isSystemIdTaken: (childId: string, systemId: string) => boolean;
  /**
   * True when the child's current actor has ended. An exit event for a child whose current actor is still alive
   * (or absent) comes from an incarnation already stopped by force, and is ignored.
   */
  readonly actorEnded: (childId: string) => boolean;
}

/** `running`: failures are decided. `ending`: shutting down or escalating; children only stop. */
export type Mode = 'running' | 'ending';

/** Id of the delayed event that ends a child's grace period. */
export function shutdownTimerId(childId: string): string {
  return `shutdown:${childId}`;
}

function restartKey(childId: string): string {
  return `restart:${childId}`;
}

/**
 * The table before anything started. Every child is `waiting` until `start` spawns it, so that one failing at
 * start under a group strategy takes the not-yet-started ones into its restart group instead of them being
 * stopped before they ever ran.
 */
export function initialState(specs: readonly ChildSpec[], nowMs: number): SupervisionState {
  return {
    children: specs.map((spec) => ({ ...newRecord(spec, nowMs), phase: 'waiting' })),
    restarts: [],
    groups: [],
    escalation: undefined,
  };
}

function newRecord(spec: ChildSpec, nowMs: number): ChildRecord {
  return { spec, phase: 'running', afterStop: 'remove', attempts: 0, startedAtMs: nowMs, resumes: [] };
}

/** A mutable copy of the state plus the effects it produced; each public function below uses one. */
class Draft {
  children: ChildRecord[];
  restarts: readonly number[];
  groups: RestartGroup[];
  escalation: Escalation | undefined;
  readonly effects: Effect[] = [];

  constructor(
    state: SupervisionState,
    private readonly env: PlanEnv,
    private readonly mode: Mode,
  ) {
    this.children = [...state.children];
    this.restarts = state.restarts;
    this.groups = [...state.groups];
    this.escalation = state.escalation;
  }

  finish(): Plan {
    return {
      state: { children: this.children, restarts: this.restarts, groups: this.groups, escalation: this.escalation },
      effects: this.effects,
    };
  }

  /** Once escalation is decided, the rest of the plan only stops things. */
  private get ending(): boolean {
    return this.mode === 'ending' || this.escalation !== undefined;
  }

  get(id: string): ChildRecord | undefined {
    return this.children.find((c) => c.spec.id === id);
  }

  private indexOf(id: string): number {
    return this.children.findIndex((c) => c.spec.id === id);
  }

  private put(record: ChildRecord): void {
    const i = this.indexOf(record.spec.id);
    if (i >= 0) this.children[i] = record;
  }

  private remove(id: string): void {
    this.children = this.children.filter((c) => c.spec.id !== id);
    this.removeFromGroups(id);
  }

  private removeFromGroups(id: string): void {
    const kept: RestartGroup[] = [];
    for (const group of this.groups) {
      const ids = group.ids.filter((m) => m !== id);
      if (ids.length > 0) kept.push(ids.length === group.ids.length ? group : { ...group, ids });
      else if (group.armed) this.effects.push({ kind: 'cancel', timerId: group.key });
    }
    this.groups = kept;
  }

  private decision(decision: DecisionReport): void {
    this.effects.push({ kind: 'decision', decision });
  }

  /** Spawns a record's actor, or fails it at once if its systemId was taken meanwhile. */
  private spawn(record: ChildRecord): boolean {
    const { spec } = record;
    if (spec.systemId !== undefined && this.env.isSystemIdTaken(spec.id, spec.systemId)) {
      this.ended(record, { kind: 'error', error: new ChildStartError(spec.id, spec.systemId) });
      return false;
    }
    this.effects.push({ kind: 'spawn', spec });
    return true;
  }

  /** Starts the initial children in order; one that cannot start fails like any other (see `initialState`). */
  spawnAll(): void {
    for (const id of this.children.map((c) => c.spec.id)) {
      if (this.ending) return;
      const record = this.get(id);
      if (record?.phase !== 'waiting' || this.groups.some((g) => g.ids.includes(id))) continue;
      const started: ChildRecord = { ...record, phase: 'running', startedAtMs: this.env.nowMs };
      this.put(started);
      this.spawn(started);
    }
  }

  /** A child's actor ended (done or error); an exit of an incarnation that is not the current actor is ignored. */
  exit(id: string, exit: ChildExit): void {
    const record = this.get(id);
    if (record === undefined || record.phase === 'waiting') return;
    if (!this.env.actorEnded(id)) return;
    this.ended(record, exit);
  }

  private ended(record: ChildRecord, exit: ChildExit): void {
    const id = record.spec.id;
    this.effects.push({ kind: 'stop', childId: id });
    if (record.phase === 'stopping') {
      this.effects.push({ kind: 'cancel', timerId: shutdownTimerId(id) });
      if (exit.kind === 'error') this.decision({ childId: id, directive: 'stop', errorCode: exitCode(exit) });
      this.finishStop(record);
      this.advance();
      return;
    }
    const code = exitCode(exit);
    if (this.ending) {
      this.decision({ childId: id, directive: 'stop', errorCode: code });
      this.remove(id);
      this.advance();
      return;
    }
    const { directive, deciderError } = decide(this.env.policy.decider, record.spec.restart, exit);
    const cause = deciderError ?? (exit.kind === 'error' ? exit.error : undefined);
    switch (directive) {
      case 'stop':
        this.decision({ childId: id, directive: 'stop', errorCode: code });
        this.remove(id);
        this.advance();
        return;
      case 'escalate':
        this.escalate(record, 'decider', code, cause);
        return;
      case 'resume':
        if (this.resume(record, code)) return;
        this.restart(record, code, cause);
        return;
      case 'restart':
        this.restart(record, code, cause);
        return;
    }
  }

  private escalate(record: ChildRecord, reason: EscalationReason, code: string, cause: unknown): void {
    this.decision({ childId: record.spec.id, directive: 'escalate', errorCode: code });
    this.escalation = { childId: record.spec.id, reason, cause };
    this.remove(record.spec.id);
  }

  /** Starts the failed child again at once, outside the intensity budget, unless it used up its resumes. */
  private resume(record: ChildRecord, code: string): boolean {
    const { policy, nowMs } = this.env;
    const resumes = recordRestart(record.resumes, nowMs, policy);
    if (resumes.exceeded) return false;
    this.decision({ childId: record.spec.id, directive: 'resume', errorCode: code, restartInMs: 0 });
    const resumed: ChildRecord = { ...record, phase: 'running', startedAtMs: nowMs, resumes: resumes.timestamps };
    this.put(resumed);
    this.spawn(resumed);
    return true;
  }

  private restart(record: ChildRecord, code: string, cause: unknown): void {
    const { policy, nowMs, random } = this.env;
    const window = recordRestart(this.restarts, nowMs, policy);
    this.restarts = window.timestamps;
    if (window.exceeded) {
      this.escalate(record, 'intensity', code, cause);
      return;
    }
    const { backoff } = policy;
    const attempts = nextRestartAttempt(
      record.attempts,
      nowMs - record.startedAtMs,
      backoff?.resetAfterMs ?? Number.POSITIVE_INFINITY,
    );
    const delayMs = backoff === undefined ? 0 : restartDelayMs(backoff, attempts, random);
    const id = record.spec.id;
    this.decision({ childId: id, directive: 'restart', errorCode: code, restartInMs: delayMs });
    this.put({ ...record, phase: 'waiting', attempts });
    this.joinGroup(id, delayMs);
    this.advance();
  }

  /** Puts the failed child and the siblings its strategy takes down into a restart group. */
  private joinGroup(failedId: string, delayMs: number): void {
    if (this.env.policy.strategy === 'one_for_one') {
      this.groups.push({ key: restartKey(failedId), ids: [failedId], delayMs, armed: false });
      return;
    }
    const from = this.env.policy.strategy === 'rest_for_one' ? this.indexOf(failedId) : 0;
    const affected = this.children
      .slice(from)
      .filter((c) => !(c.phase === 'stopping' && c.afterStop === 'remove'))
      .map((c) => c.spec.id);
    const existing = this.groups[0];
    if (existing?.armed === true) this.effects.push({ kind: 'cancel', timerId: existing.key });
    const ids = new Set([...(existing?.ids ?? []), ...affected]);
    this.groups = [
      {
        key: existing?.key ?? restartKey(failedId),
        ids: this.children.map((c) => c.spec.id).filter((m) => ids.has(m)),
        delayMs,
        armed: false,
      },
    ];
  }

  /** Asks a child to stop (or stops it at once when its shutdownMs is 0). */
  private beginStop(record: ChildRecord, afterStop: ChildRecord['afterStop']): void {
    const id = record.spec.id;
    if (record.spec.shutdownMs === 0) {
      this.effects.push({ kind: 'stop', childId: id });
      this.finishStop({ ...record, afterStop });
      return;
    }
    this.effects.push({ kind: 'ask_shutdown', childId: id, shutdownMs: record.spec.shutdownMs });
    this.put({ ...record, phase: 'stopping', afterStop });
  }

  private finishStop(record: ChildRecord): void {
    if (record.afterStop === 'remove') this.remove(record.spec.id);
    else this.put({ ...record, phase: 'waiting' });
  }

  private advance(): void {
    if (this.ending) this.advanceStopAll();
    else this.advanceGroups();
  }

  /** Moves each restart group on: stop its next living member, or arm its timer once all are down. */
  private advanceGroups(): void {
    for (const key of this.groups.map((g) => g.key)) {
      for (;;) {
        const group = this.groups.find((g) => g.key === key);
        if (group === undefined || group.armed) break;
        const members = this.children.filter((c) => group.ids.includes(c.spec.id));
        if (members.some((m) => m.phase === 'stopping')) break;
        const living = members.filter((m) => m.phase === 'running');
        const last = living[living.length - 1];
        if (last !== undefined) {
          this.beginStop(last, last.spec.restart === 'temporary' ? 'remove' : 'restart');
          continue;
        }
        if (members.length === 0) {
          this.groups = this.groups.filter((g) => g.key !== key);
        } else if (group.delayMs === 0) {
          this.restartGroup(key);
        } else {
          this.groups = this.groups.map((g) => (g.key === key ? { ...g, armed: true } : g));
          this.effects.push({ kind: 'arm_restart', key, delayMs: group.delayMs });
        }
        break;
      }
    }
  }

  /** Starts every waiting member of a group again, in start order. */
  restartGroup(key: string): void {
    const group = this.groups.find((g) => g.key === key);
    if (group === undefined) return;
    this.groups = this.groups.filter((g) => g.key !== key);
    const members = this.children.filter((c) => group.ids.includes(c.spec.id) && c.phase === 'waiting');
    for (const member of members) {
      const restarted: ChildRecord = { ...member, phase: 'running', startedAtMs: this.env.nowMs };
      this.put(restarted);
      // A member that cannot start fails like any other, and its own group takes the remaining ones along.
      if (!this.spawn(restarted)) return;
      this.effects.push({ kind: 'restarted', childId: member.spec.id });
    }
  }

  /** Stops the latest started living child, one at a time, until none is left. */
  private advanceStopAll(): void {
    for (;;) {
      if (this.children.some((c) => c.phase === 'stopping')) return;
      const living = this.children.filter((c) => c.phase === 'running');
      const last = living[living.length - 1];
      if (last === undefined) return;
      this.beginStop(last, 'remove');
    }
  }

  /** Entering shutdown or escalation: no restart is pending any more, everyone leaves for good. */
  beginStopAll(): void {
    for (const group of this.groups) if (group.armed) this.effects.push({ kind: 'cancel', timerId: group.key });
    this.groups = [];
    this.children = this.children
      .filter((c) => c.phase !== 'waiting')
      .map((c) => (c.afterStop === 'remove' ? c : { ...c, afterStop: 'remove' }));
    this.advanceStopAll();
  }

  startChild(spec: ChildSpec): void {
    const id = (spec as { id?: unknown } | undefined)?.id;
    const childId = typeof id === 'string' ? id : '';
    if (this.ending) {
      this.effects.push({ kind: 'rejected', request: 'start_child', childId, reason: 'the supervisor is stopping' });
      return;
    }
    const problems = childSpecProblems(spec, 'spec');
    if (this.children.length >= this.env.maxChildren) {
      problems.push(`the supervisor already holds its maximum of ${this.env.maxChildren} children`);
    } else if (problems.length === 0) {
      if (this.get(spec.id) !== undefined) problems.push(`spec.id "${spec.id}" is already in use`);
      const { systemId } = spec;
      if (
        systemId !== undefined &&
        (this.children.some((c) => c.spec.systemId === systemId) || this.env.isSystemIdTaken(spec.id, systemId))
      ) {
        problems.push(`spec.systemId "${systemId}" is already registered`);
      }
    }
    if (problems.length > 0) {
      this.effects.push({ kind: 'rejected', request: 'start_child', childId, reason: problems.join('; ') });
      return;
    }
    const record = newRecord(spec, this.env.nowMs);
    this.children.push(record);
    this.spawn(record);
  }

  stopChild(id: string): void {
    const record = this.get(id);
    if (record === undefined) {
      this.effects.push({ kind: 'rejected', request: 'stop_child', childId: id, reason: `no child with id "${id}"` });
      return;
    }
    // While ending, every child is on its way out in reverse start order already.
    if (this.ending) return;
    this.removeFromGroups(id);
    switch (record.phase) {
      case 'running':
        this.beginStop(record, 'remove');
        break;
      case 'stopping':
        this.put({ ...record, afterStop: 'remove' });
        break;
      case 'waiting':
        this.remove(id);
        break;
    }
    this.advance();
  }

  shutdownDue(id: string): void {
    const record = this.get(id);
    if (record?.phase !== 'stopping') return;
    this.effects.push({ kind: 'stop', childId: id });
    this.finishStop(record);
    this.advance();
  }

  restartDue(key: string): void {
    if (this.groups.find((g) => g.key === key)?.armed !== true) return;
    this.restartGroup(key);
    this.advance();
  }
}

/** What the supervisor asks the planner about. `mode` says whether failures are still decided. */
export type PlanRequest =
  /** Entry: spawn the initial children. */
  | { readonly kind: 'start' }
  /** A child's actor ended: decide, then restart, stop or escalate. */
  | { readonly kind: 'exit'; readonly mode: Mode; readonly childId: string; readonly exit: ChildExit }
  | { readonly kind: 'start_child'; readonly mode: Mode; readonly spec: ChildSpec }
  | { readonly kind: 'stop_child'; readonly mode: Mode; readonly childId: string }
  /** A child's grace period ran out: stop it by force. */
  | { readonly kind: 'shutdown_due'; readonly mode: Mode; readonly childId: string }
  /** A restart group's backoff elapsed. */
  | { readonly kind: 'restart_due'; readonly key: string }
  /** Shutdown or escalation begins: cancel pending restarts and stop every child in reverse start order. */
  | { readonly kind: 'stop_all' };

/**
 * The new state and the effects to run for one request. Pure: the input state is not modified.
 *
 * @example
 * ```ts
 * const exit = { kind: 'normal' } as const;
 * const { state, effects } = plan(context, env, { kind: 'exit', mode: 'running', childId: 'a', exit });
 * ```
 */
export function plan(state: SupervisionState, env: PlanEnv, request: PlanRequest): Plan {
  const mode: Mode = 'mode' in request ? request.mode : request.kind === 'stop_all' ? 'ending' : 'running';
  const draft = new Draft(state, env, mode);
  switch (request.kind) {
    case 'start':
      draft.spawnAll();
      break;
    case 'exit':
      draft.exit(request.childId, request.exit);
      break;
    case 'start_child':
      draft.startChild(request.spec);
      break;
    case 'stop_child':
      draft.stopChild(request.childId);
      break;
    case 'shutdown_due':
      draft.shutdownDue(request.childId);
      break;
    case 'restart_due':
      draft.restartDue(request.key);
      break;
    case 'stop_all':
      draft.beginStopAll();
      break;
  }
  return draft.finish();
}
