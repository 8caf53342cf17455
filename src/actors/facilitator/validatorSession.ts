/**
 * The facilitator's side of validator connections: the registry of authenticated connections per validator
 * (upstream's `Channel` rows and channel groups) and the real effects the session machine is bound to (signature
 * and metagraph checks, the job store, redelivery, metrics).
 */
import { verifyAuthenticationRequest } from '../../crypto';
import type { FacilitatorSessionServices, ValidatorChannel } from '../../machines/facilitatorSession.machine';
import type { MetagraphProvider } from '../../metagraph/types';
import type { FacilitatorToValidatorMessageInput } from '../../protocol';
import type { Logger } from '../../telemetry/logger';
import type { Clock } from '../../util/clock';
import { REDELIVERY_BATCH_LIMIT, REDELIVERY_MAX_AGE_MS } from './defaults';
import type { JobEvents } from './jobEvents';
import { jobRequestOf } from './jobJson';
import type { JobStore } from './jobStore';
import type { FacilitatorMetrics } from './metrics';

interface ChannelEntry {
  readonly channel: ValidatorChannel;
  /** Newest of its authentication and its last heartbeat. */
  lastSeenMs: number;
}

/**
 * Authenticated validator connections by validator hotkey, with when each was last heard from. A validator is
 * fresh when any of its connections was heard from within the freshness window.
 *
 * @example
 * ```ts
 * const channels = new ValidatorChannels(systemClock);
 * channels.add(channel);
 * channels.fresh(180_000); // ['5F…']
 * channels.send('5F…', jobRequest); // to every connection of that validator
 * ```
 */
export class ValidatorChannels {
  private readonly byValidator = new Map<string, Map<string, ChannelEntry>>();

  constructor(private readonly clock: Clock) {}

  add(channel: ValidatorChannel): void {
    let group = this.byValidator.get(channel.hotkey);
    if (group === undefined) {
      group = new Map();
      this.byValidator.set(channel.hotkey, group);
    }
    group.set(channel.connectionId, { channel, lastSeenMs: this.clock.nowMs() });
  }

  remove(channel: ValidatorChannel): void {
    const group = this.byValidator.get(channel.hotkey);
    if (group === undefined) return;
    group.delete(channel.connectionId);
    if (group.size === 0) this.byValidator.delete(channel.hotkey);
  }

  heartbeat(channel: ValidatorChannel): void {
    const entry = this.byValidator.get(channel.hotkey)?.get(channel.connectionId);
    if (entry !== undefined) entry.lastSeenMs = this.clock.nowMs();
  }

  /** Connections of a validator. */
  of(hotkey: string): ValidatorChannel[] {
    return [...(this.byValidator.get(hotkey)?.values() ?? [])].map((e) => e.channel);
  }

  /** Validators with a connection heard from within `freshnessMs`. */
  fresh(freshnessMs: number): string[] {
    const since = this.clock.nowMs() - freshnessMs;
    const out: string[] = [];
    for (const [hotkey, group] of this.byValidator) {
      for (const entry of group.values()) {
        if (entry.lastSeenMs >= since) {
          out.push(hotkey);
          break;
        }
      }
    }
    return out;
  }

  /** Sends `message` to every connection of `hotkey`; returns how many got it. */
  send(hotkey: string, message: FacilitatorToValidatorMessageInput): number {
    const channels = this.of(hotkey);
    for (const channel of channels) channel.connection.send({ type: 'connection.send', message });
    return channels.length;
  }

  /** Closes every connection of `hotkey` (a deregistered validator). */
  close(hotkey: string, code: number, reason: string): number {
    const channels = this.of(hotkey);
    for (const channel of channels) channel.connection.send({ type: 'connection.close', code, reason });
    return channels.length;
  }

  /** Validators with at least one connection. */
  validators(): string[] {
    return [...this.byValidator.keys()];
  }

  /** Authenticated connections in all. */
  get size(): number {
    let n = 0;
    for (const group of this.byValidator.values()) n += group.size;
    return n;
  }
}

/** What the session services need from the facilitator. */
export interface SessionServicesDeps {
  readonly store: JobStore;
  readonly channels: ValidatorChannels;
  readonly events: JobEvents;
  readonly metagraph: MetagraphProvider;
  readonly metrics: FacilitatorMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly evictAfterMs: number;
  readonly redeliveryLimit?: number;
  readonly redeliveryMaxAgeMs?: number;
}

/**
 * The real effects of {@link createFacilitatorSessionMachine}: signature then metagraph check on auth; joining the
 * validator's group redelivers its jobs that never got past `sent`; statuses go to the store (a validator may only
 * report its own jobs), then to the SSE listeners.
 *
 * @example
 * ```ts
 * const behaviour = createFacilitatorSessionMachine(createSessionServices({ store, channels, events, metagraph, metrics,
 *   logger, clock, evictAfterMs: VALIDATOR_EVICTION_MS }));
 * ```
 */
export function createSessionServices(deps: SessionServicesDeps): FacilitatorSessionServices {
  const { store, channels, events, metagraph, metrics, logger, clock } = deps;
  return {
    verifyAuth: (message) => {
      const verdict = verifyAuthenticationRequest(message);
      if (!verdict.ok) return { kind: 'bad_signature', message: verdict.error.message };
      const hotkey = verdict.value.ss58;
      const validator = metagraph.validator(hotkey);
      if (validator === undefined) return { kind: 'unknown_validator', hotkey, message: `Validator ${hotkey} not found` };
      if (!validator.active) return { kind: 'unknown_validator', hotkey, message: `Validator ${hotkey} is inactive` };
      return { kind: 'ok', hotkey };
    },
    attach: (channel) => {
      channels.add(channel);
      metrics.sessionsAuthenticated.add(1);
      const pending = store.undelivered(channel.hotkey, {
        limit: deps.redeliveryLimit ?? REDELIVERY_BATCH_LIMIT,
        minCreatedAtMs: clock.nowMs() - (deps.redeliveryMaxAgeMs ?? REDELIVERY_MAX_AGE_MS),
      });
      for (const job of pending) channel.connection.send({ type: 'connection.send', message: jobRequestOf(job) });
      if (pending.length > 0) {
        metrics.jobsDispatched.add(pending.length, { reason: 'redelivery' });
        logger.info('jobs redelivered', { validator: channel.hotkey, connection: channel.connectionId, jobs: pending.length });
      }
    },
    detach: (channel) => {
      channels.remove(channel);
      metrics.sessionsAuthenticated.add(-1);
    },
    heartbeat: (channel) => channels.heartbeat(channel),
    storeStatus: (validatorHotkey, update) => {
      const job = store.get(update.uuid);
      // A validator reports only its own jobs; another's uuid is as unknown to it as a made-up one.
      if (job === undefined || job.validator !== validatorHotkey) {
        metrics.statusRefused.add(1, { reason: 'not_found' });
        return 'not_found';
      }
      const outcome = store.appendStatus(update.uuid, update.status, update.metadata);
      if (outcome.kind === 'duplicate') {
        metrics.statusRefused.add(1, { reason: 'integrity_error' });
        return 'duplicate';
      }
      if (outcome.kind === 'not_found') return 'not_found';
      metrics.jobStatuses.add(1, { status: update.status });
      events.publish(update.uuid, outcome.record);
      return 'stored';
    },
    machineSpecs: (validatorHotkey, update) => {
      logger.debug('machine specs received', { validator: validatorHotkey, miner: update.miner_hotkey, batch: update.batch_id });
    },
    evictAfterMs: deps.evictAfterMs,
    observer: {
      opened: () => metrics.sessionsOpen.add(1),
      closed: () => metrics.sessionsOpen.add(-1),
      outcome: (outcome) => metrics.sessions.add(1, { outcome }),
      log: (level, msg, fields) => logger.log(level, msg, fields),
    },
  };
}
