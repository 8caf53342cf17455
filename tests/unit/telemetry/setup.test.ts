import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics, propagation, trace } from '@opentelemetry/api';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { hordeTracer } from '../../../src/telemetry/meter';
import { activeTelemetry, setupTelemetry, type TelemetryHandle } from '../../../src/telemetry/setup';

describe('setupTelemetry', () => {
  let handle: TelemetryHandle | undefined;

  afterEach(async () => {
    await handle?.shutdown();
    handle = undefined;
  });

  it('registers providers globally so hordeTracer() records spans', async () => {
    handle = await setupTelemetry({ serviceName: 'horde-test', role: 'test', inMemorySpans: true });
    const span = hordeTracer().startSpan('unit.work');
    expect(span.isRecording()).toBe(true);
    span.end();
    expect(handle.spans!.getFinishedSpans().map((s) => s.name)).toEqual(['unit.work']);
    expect(handle.spans!.getFinishedSpans()[0]!.resource.attributes['horde.role']).toBe('test');
    expect(propagation.fields()).toEqual(['traceparent', 'tracestate']);
    expect(activeTelemetry()).toBe(handle);
  });

  it('refuses a second setup while the first is active', async () => {
    handle = await setupTelemetry({ serviceName: 'horde-test', role: 'test' });
    await expect(setupTelemetry({ serviceName: 'horde-test', role: 'test' })).rejects.toMatchObject({
      code: 'telemetry.already_setup',
    });
  });

  it('unregisters every global on shutdown, so spans stop recording and setup may run again', async () => {
    const first = await setupTelemetry({ serviceName: 'horde-test', role: 'test' });
    await first.shutdown();
    await first.shutdown(); // idempotent
    expect(hordeTracer().startSpan('after.shutdown').isRecording()).toBe(false);
    expect(propagation.fields()).toEqual([]);
    expect(activeTelemetry()).toBeUndefined();
    handle = await setupTelemetry({ serviceName: 'horde-test', role: 'test' });
    expect(metrics.getMeterProvider()).toBe(handle.meterProvider);
  });

  it('refuses to start when another library already registered a global tracer provider', async () => {
    const foreign = new BasicTracerProvider();
    trace.setGlobalTracerProvider(foreign);
    try {
      await expect(setupTelemetry({ serviceName: 'horde-test', role: 'test' })).rejects.toMatchObject({
        code: 'telemetry.globals_taken',
      });
      expect(activeTelemetry()).toBeUndefined();
    } finally {
      trace.disable();
      await foreign.shutdown();
    }
    handle = await setupTelemetry({ serviceName: 'horde-test', role: 'test' });
  });

  it('undoes the registration when its metrics port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      await expect(
        setupTelemetry({ serviceName: 'horde-test', role: 'test', metricsServer: { port } }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(hordeTracer().startSpan('x').isRecording()).toBe(false);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    handle = await setupTelemetry({ serviceName: 'horde-test', role: 'test' });
  });
});
