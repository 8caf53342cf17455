import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { hordeTracer } from '../../../src/telemetry/meter';
import { setupTelemetry, type TelemetryHandle } from '../../../src/telemetry/setup';
import {
  captureTraceCarrier,
  extractTraceContext,
  injectTraceHeaders,
  startChildSpan,
  traceIds,
  withSpan,
} from '../../../src/telemetry/trace-context';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('trace context helpers', () => {
  let telemetry: TelemetryHandle;

  beforeAll(async () => {
    telemetry = await setupTelemetry({ serviceName: 'horde-test', role: 'test', inMemorySpans: true });
  });
  afterAll(() => telemetry.shutdown());
  beforeEach(() => telemetry.spans!.reset());

  it('injects traceparent for the active span and nothing outside one', () => {
    expect(injectTraceHeaders({})).toEqual({});
    withSpan('outer', {}, (span) => {
      const headers = injectTraceHeaders({ 'x-horde-session': 's1' });
      expect(headers['x-horde-session']).toBe('s1');
      expect(headers['traceparent']).toMatch(TRACEPARENT);
      expect(headers['traceparent']).toContain(span.spanContext().traceId);
    });
  });

  it('extracts whatever the header case, and from header lists', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    for (const headers of [{ traceparent }, { TraceParent: traceparent }, { traceparent: [traceparent, 'x'] }]) {
      const ids = traceIds(extractTraceContext(headers));
      expect(ids).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
    }
  });

  it('ignores a malformed traceparent and starts a new trace', () => {
    const { span } = startChildSpan('job', { traceparent: 'garbage' });
    span.end();
    expect(telemetry.spans!.getFinishedSpans()[0]!.parentSpanContext).toBeUndefined();
  });

  it("starts a child span from a job's carried context", () => {
    const producer = hordeTracer().startSpan('facilitator.job.submit');
    const carrier = captureTraceCarrier(trace.setSpan(context.active(), producer));
    expect(carrier.traceparent).toMatch(TRACEPARENT);
    const { span, ctx } = startChildSpan('validator.job.route', carrier, { attributes: { 'horde.job.uuid': 'u1' } });
    expect(traceIds(ctx)?.spanId).toBe(span.spanContext().spanId);
    span.end();
    producer.end();
    const child = telemetry.spans!.getFinishedSpans().find((s) => s.name === 'validator.job.route')!;
    expect(child.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(child.attributes['horde.job.uuid']).toBe('u1');
  });

  it('captures an empty carrier outside any span', () => {
    expect(captureTraceCarrier()).toEqual({});
  });

  it('nests withSpan calls through async work and ends them', async () => {
    const result = await withSpan('outer', { step: 1 }, async () => {
      await Promise.resolve();
      return withSpan('inner', {}, async () => {
        await new Promise((r) => setImmediate(r));
        return 42;
      });
    });
    expect(result).toBe(42);
    const spans = telemetry.spans!.getFinishedSpans();
    const outer = spans.find((s) => s.name === 'outer')!;
    const inner = spans.find((s) => s.name === 'inner')!;
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
  });

  it('marks the span as an error and rethrows when the work fails', async () => {
    await expect(
      withSpan('failing', {}, async () => {
        throw new Error('miner unreachable');
      }),
    ).rejects.toThrow('miner unreachable');
    expect(() =>
      withSpan('failing.sync', {}, () => {
        throw new Error('bad input');
      }),
    ).toThrow('bad input');
    for (const span of telemetry.spans!.getFinishedSpans()) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.events.map((e) => e.name)).toContain('exception');
    }
    expect(telemetry.spans!.getFinishedSpans()).toHaveLength(2);
  });
});
