/**
 * The job driver's telemetry (src/actors/executor/jobMetrics.ts): stage durations by stage and outcome, jobs by
 * outcome and reason, and one span per stage under the job's span.
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createJobDriverMetrics, createJobObserver } from '../../src/actors/executor/jobMetrics';
import { testMeter, type TestMeter } from './telemetry/metric-reader';
import { driverHarness, type DriverHarness } from '../support/jobDriverHarness';
import { initialJobRequest, jobRequest } from '../support/scriptedMiner';

const JOB = '7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f';
let meter: TestMeter;
let spans: InMemorySpanExporter;
let tracerProvider: BasicTracerProvider;
let h: DriverHarness | undefined;

beforeEach(() => {
  meter = testMeter();
  spans = new InMemorySpanExporter();
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
});

afterEach(async () => {
  h?.actor.stop();
  h = undefined;
  await meter.shutdown();
  await tracerProvider.shutdown();
});

function observedDriver(effects: Parameters<typeof driverHarness>[0] = {}) {
  const metrics = createJobDriverMetrics(meter.meter);
  const observer = createJobObserver({ metrics, tracer: tracerProvider.getTracer('test'), attributes: { 'horde.job.uuid': JOB } });
  h = driverHarness({ ...effects, observer }).start();
  return h;
}

async function runJob(driver: DriverHarness): Promise<void> {
  driver.deliver(initialJobRequest({ jobUuid: JOB, image: 'img' }));
  await driver.flush();
  driver.deliver(jobRequest({ jobUuid: JOB, image: 'img' }));
  await driver.flush();
}

describe('job driver telemetry', () => {
  it('records each stage’s duration by stage and outcome, and the job by outcome and reason', async () => {
    const driver = observedDriver({ effects: { runJob: () => ({ exitCode: 1, stdout: '', stderr: '' }) } });
    await runJob(driver);
    const labels = await meter.labels('horde_executor_stage_duration_ms');
    expect(labels).toEqual(
      expect.arrayContaining([
        { stage: 'executor_startup', outcome: 'ok' },
        { stage: 'volume_download', outcome: 'ok' },
        { stage: 'execution', outcome: 'failed' },
        { stage: 'cleanup', outcome: 'ok' },
      ]),
    );
    expect(labels).toHaveLength(4);
    expect(await meter.value('horde_executor_jobs', { outcome: 'job_failed', reason: 'nonzero_return_code' })).toBe(1);
  });

  it('records a timed-out stage as timeout', async () => {
    const driver = observedDriver();
    driver.deliver(initialJobRequest({ jobUuid: JOB, image: 'img' }));
    await driver.flush();
    await driver.advance(11_000);
    expect(await meter.labels('horde_executor_stage_duration_ms')).toContainEqual({ stage: 'volume_download', outcome: 'timeout' });
    expect(await meter.value('horde_executor_jobs', { outcome: 'job_failed', reason: 'timeout' })).toBe(1);
  });

  it('opens one span per stage under the job’s span, ending each with its outcome', async () => {
    const driver = observedDriver();
    await runJob(driver);
    const finished = spans.getFinishedSpans();
    const job = finished.find((s) => s.name === 'executor.job')!;
    expect(job.attributes).toMatchObject({ 'horde.outcome': 'completed', 'horde.job.uuid': JOB });
    const stages = finished.filter((s) => s.name.startsWith('executor.stage.'));
    expect(stages.map((s) => s.name)).toEqual([
      'executor.stage.executor_startup',
      'executor.stage.volume_download',
      'executor.stage.execution',
      'executor.stage.result_upload',
      'executor.stage.cleanup',
    ]);
    for (const stage of stages) {
      expect(stage.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
      expect(stage.attributes['horde.outcome']).toBe('ok');
    }
  });
});
