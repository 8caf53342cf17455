/**
 * What Horde reads from the chain's metagraph, behind one interface: the miner asks which validators are known and
 * active; a validator asks for miners' axon addresses and validators' stake. The chain itself is out of reach, so the
 * shipped providers read a file (`fileProvider.ts`) or hold a fixed snapshot (`staticProvider.ts`); a chain-backed
 * provider would implement the same interface.
 */

/** A validator neuron as the miner and other validators see it. */
export interface MetagraphValidator {
  /** SS58 hotkey. */
  readonly hotkey: string;
  /** Upstream's `Validator.active`: registered and permitted. An inactive validator is refused like an unknown one. */
  readonly active: boolean;
  /** Stake (alpha) used by validators for excuse checks; not used by the miner. */
  readonly stake: number;
  readonly uid: number | undefined;
}

/** A miner neuron: where validators dial it (`axon_info`). */
export interface MetagraphMiner {
  readonly hotkey: string;
  /** IP or host name of the miner's axon. */
  readonly address: string;
  readonly port: number;
  readonly uid: number | undefined;
  readonly coldkey: string | undefined;
}

/** One immutable view of the metagraph; a reload produces a new one. */
export interface MetagraphSnapshot {
  /** Increases by one on every change a provider publishes (0 for the first). */
  readonly version: number;
  /** Chain block the snapshot describes, when the source says. */
  readonly block: number | undefined;
  readonly validators: ReadonlyMap<string, MetagraphValidator>;
  readonly miners: ReadonlyMap<string, MetagraphMiner>;
}

/**
 * A source of metagraph snapshots. Reads are synchronous (the latest snapshot is held in memory) so that they can sit
 * on hot paths such as a validator connection's first message.
 *
 * @example
 * ```ts
 * const metagraph = await createFileMetagraphProvider({ path: 'metagraph.json' });
 * const v = metagraph.validator(urlHotkey);
 * if (v === undefined) refuse(`Unknown validator: ${urlHotkey}`);
 * else if (!v.active) refuse(`Inactive validator: ${urlHotkey}`);
 * await metagraph.close();
 * ```
 */
export interface MetagraphProvider {
  /** The latest snapshot. */
  snapshot(): MetagraphSnapshot;
  /** The validator with this hotkey in the latest snapshot. */
  validator(hotkey: string): MetagraphValidator | undefined;
  /** Calls `listener` with every new snapshot; returns the unsubscribe function. */
  subscribe(listener: (snapshot: MetagraphSnapshot) => void): () => void;
  /** Stops watching (timers, watchers); later reads still answer the last snapshot. Idempotent. */
  close(): Promise<void>;
}
