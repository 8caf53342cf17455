/*
 * Cost of the actor-event bridge: events/s of a busy actor with and without it.
 * Run: npx tsx bench/telemetry.ts [events=200000] [rounds=7]
 */
import { performance } from 'node:perf_hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { assign, createActor, setup, type InspectionEvent, type Observer } from 'xstate';
import { combineInspectors, createActorBridge } from '../src/telemetry/actor-bridge';
import { createActorBridgeInstruments } from '../src/telemetry/metrics';

class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const busy = setup({
  types: { context: {} as { n: number }, events: {} as { type: 'busy.tick' } | { type: 'busy.other' } },
}).createMachine({
  id: 'busy',
  context: { n: 0 },
  initial: 'working',
  states: {
    // counting ticks
    working: {
      on: {
        'busy.tick': { actions: assign({ n: ({ context }) => context.n + 1 }) },
        'busy.other': {},
      },
    },
  },
});

function run(events: number, inspect: Observer<InspectionEvent> | undefined): number {
  const actor = createActor(busy, { inspect }).start();
  const tick = { type: 'busy.tick' } as const;
  const started = performance.now();
  for (let i = 0; i < events; i += 1) actor.send(tick);
  const elapsedMs = performance.now() - started;
  actor.stop();
  return events / (elapsedMs / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 200_000);
  const rounds = Number(process.argv[3] ?? 7);
  const provider = new MeterProvider({ readers: [new PullReader()] });
  const reader = new PullReader();
  const scraped = new MeterProvider({ readers: [reader] });

  const variants: Array<[string, () => Observer<InspectionEvent> | undefined]> = [
    ['no inspect', () => undefined],
    ['empty inspect observer', () => ({ next: () => undefined })],
    ['bridge (live MeterProvider)', () => createActorBridge({ instruments: createActorBridgeInstruments(provider.getMeter('b')) }).inspect],
    [
      'bridge via combineInspectors',
      () => combineInspectors(createActorBridge({ instruments: createActorBridgeInstruments(provider.getMeter('c')) }).inspect),
    ],
  ];

  for (const [, make] of variants) run(20_000, make()); // warm-up

  const results = new Map<string, number[]>();
  for (let r = 0; r < rounds; r += 1)
    for (const [name, make] of variants) {
      const list = results.get(name) ?? [];
      list.push(run(events, make()));
      results.set(name, list);
    }

  // Collection cost happens at scrape time, not per event: time one scrape over a populated bridge.
  const bridge = createActorBridge({ instruments: createActorBridgeInstruments(scraped.getMeter('s')) });
  run(events, bridge.inspect);
  const scrapeStarted = performance.now();
  await reader.collect();
  const scrapeMs = performance.now() - scrapeStarted;

  const baseline = median(results.get('no inspect')!);
  console.log(`node ${process.version}, ${events} events x ${rounds} rounds (median)`);
  for (const [name, list] of results) {
    const eps = median(list);
    const overhead = ((baseline / eps - 1) * 100).toFixed(1);
    console.log(`${name.padEnd(30)} ${Math.round(eps).toLocaleString('en-US').padStart(12)} events/s  overhead ${overhead}%`);
  }
  console.log(`one scrape of the bridge's series: ${scrapeMs.toFixed(2)} ms`);
  await provider.shutdown();
  await scraped.shutdown();
}

void main();
