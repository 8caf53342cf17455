import type { ObservableResult } from '@opentelemetry/api';
import type { MetagraphContent } from './parse';
import type { MetagraphMetrics } from './metrics';
import type { MetagraphSnapshot } from './types';

/**
 * Holds the current snapshot and its subscribers: the part every provider shares. Listeners that throw are isolated
 * (one bad subscriber cannot stop the others from hearing of a change) and reported through `onListenerError`.
 */
export class SnapshotHolder {
  private current: MetagraphSnapshot;
  private readonly listeners = new Set<(snapshot: MetagraphSnapshot) => void>();
  private readonly observe: ((result: ObservableResult) => void) | undefined;

  constructor(
    content: MetagraphContent,
    private readonly metrics: MetagraphMetrics | undefined,
    private readonly onListenerError: (error: unknown) => void,
  ) {
    this.current = { version: 0, ...content };
    if (metrics !== undefined) {
      this.observe = (result) => {
        const snapshot = this.current;
        let active = 0;
        for (const v of snapshot.validators.values()) if (v.active) active += 1;
        result.observe(snapshot.validators.size, { kind: 'validator' });
        result.observe(active, { kind: 'active_validator' });
        result.observe(snapshot.miners.size, { kind: 'miner' });
      };
      metrics.neurons.addCallback(this.observe);
    }
  }

  get snapshot(): MetagraphSnapshot {
    return this.current;
  }

  publish(content: MetagraphContent): MetagraphSnapshot {
    this.current = { version: this.current.version + 1, ...content };
    for (const listener of [...this.listeners]) {
      try {
        listener(this.current);
      } catch (error) {
        this.onListenerError(error);
      }
    }
    return this.current;
  }

  subscribe(listener: (snapshot: MetagraphSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispose(): void {
    this.listeners.clear();
    if (this.observe !== undefined) this.metrics?.neurons.removeCallback(this.observe);
  }
}
