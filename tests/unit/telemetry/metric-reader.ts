import type { Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint } from '@opentelemetry/sdk-metrics';

/** A pull-only reader: nothing global, no timers; `collect()` runs the observable callbacks. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface TestMeter {
  provider: MeterProvider;
  meter: ReturnType<MeterProvider['getMeter']>;
  /** Value of `name` at the data point whose attributes include `match` (undefined when there is none). */
  value(name: string, match?: Attributes): Promise<number | undefined>;
  /** Every data point's attributes for `name`. */
  labels(name: string): Promise<Attributes[]>;
  shutdown(): Promise<void>;
}

export function testMeter(): TestMeter {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter('test');
  async function points(name: string): Promise<DataPoint<number>[]> {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics)
        if (metric.descriptor.name === name) return metric.dataPoints as DataPoint<number>[];
    return [];
  }
  return {
    provider,
    meter,
    async value(name, match = {}) {
      const found = (await points(name)).find((p) =>
        Object.entries(match).every(([k, v]) => p.attributes[k] === v),
      );
      return found?.value;
    },
    async labels(name) {
      return (await points(name)).map((p) => p.attributes);
    },
    shutdown: () => provider.shutdown(),
  };
}
