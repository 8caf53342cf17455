import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { TransportMetrics } from '../../src/transport/metrics';

class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Transport instruments on a private meter provider, with a way to read the exported values. */
export function transportMetricsUnderTest() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const metrics = new TransportMetrics(provider.getMeter('test'));
  /** Sum of the data points of `name` whose attributes include `attributes`. */
  const value = async (name: string, attributes: Record<string, string> = {}): Promise<number> => {
    const { resourceMetrics } = await reader.collect();
    const all: MetricData[] = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const metric = all.find((m) => m.descriptor.name === name);
    if (metric === undefined) return 0;
    let total = 0;
    for (const point of metric.dataPoints) {
      if (Object.entries(attributes).every(([k, v]) => point.attributes[k] === v)) total += point.value as number;
    }
    return total;
  };
  return { metrics, value, shutdown: () => provider.shutdown() };
}
