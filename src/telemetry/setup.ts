import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { createRouter, startHttpServer, type HttpServerHandle, type Router } from '../http/router';
import { DEFAULT_METRICS_HOST, METRICS_PATH } from './defaults';
import { TelemetryAlreadySetupError, TelemetryGlobalsTakenError } from './errors';

export interface TelemetryOptions {
  /** `service.name` resource attribute, e.g. `horde-miner`. */
  serviceName: string;
  /** The Horde role (`facilitator`, `validator`, `miner`, `executor`, or a tool name): `horde.role` attribute. */
  role: string;
  /** `service.version` resource attribute. */
  serviceVersion?: string;
  /** `service.instance.id`: something stable and public that tells instances apart (a hotkey, a pod name). */
  serviceInstanceId?: string;
  /** More resource attributes (appear on `target_info`). Never put secrets here: `/metrics` shows them. */
  resourceAttributes?: Attributes;
  /**
   * For a role WITHOUT its own HTTP server: serve `/metrics` (and whatever `extraRoutes` adds later through the
   * handle's router) on this address. Roles with a server leave it out and mount `handle.metricsHandler` (or
   * `telemetryRoutes`) at `/metrics` themselves.
   */
  metricsServer?: { host?: string; port: number };
  /** Keep finished spans in memory (`handle.spans`): for tests and `horde` debugging commands. */
  inMemorySpans?: boolean;
  /** Extra span exporters (each behind a SimpleSpanProcessor). Horde ships none that use the network. */
  spanExporters?: readonly SpanExporter[];
  /** Extra span processors, used as given. */
  spanProcessors?: readonly SpanProcessor[];
}

export interface TelemetryHandle {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: NodeTracerProvider;
  /** The Prometheus reader; it never starts a server of its own. */
  readonly exporter: PrometheusExporter;
  /** Answers a scrape in the Prometheus text format; mount it at `/metrics` on the role's server. */
  readonly metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * A router answering `/metrics`; add `healthRoutes(...)` to it. Roles with a server mount `router.route` on it;
   * the dedicated `metricsServer` serves it.
   */
  readonly router: Router;
  /** Finished spans, when `inMemorySpans` was set. */
  readonly spans: InMemorySpanExporter | undefined;
  /** The dedicated metrics server, when `metricsServer` was set. */
  readonly metricsServer: HttpServerHandle | undefined;
  /**
   * Flushes spans, stops the metrics server, shuts both providers down and unregisters every OpenTelemetry global
   * (meter/tracer provider, context manager, propagator), so that `setupTelemetry` may run again and nothing keeps
   * the process alive. Idempotent.
   */
  shutdown(): Promise<void>;
}

let active: TelemetryHandle | undefined;

/** The handle of the current setup, if any (a role's HTTP layer may read `metricsHandler` from it). */
export function activeTelemetry(): TelemetryHandle | undefined {
  return active;
}

/**
 * Sets OpenTelemetry up for this process: a MeterProvider read by a Prometheus exporter (no server of its own:
 * mount `metricsHandler`, or pass `metricsServer`), a NodeTracerProvider with AsyncLocalStorage context and the W3C
 * trace-context propagator, all registered globally so that `hordeMeter()`/`hordeTracer()` return live instruments.
 *
 * One setup per process at a time: a second call before `shutdown()` rejects with `telemetry.already_setup`
 * (silently reusing the first would hide a second, differently-configured caller). Create instruments AFTER setup:
 * a meter obtained from the API before a provider is registered stays a no-op.
 *
 * @example
 * ```ts
 * const telemetry = await setupTelemetry({ serviceName: 'horde-executor', role: 'executor',
 *   metricsServer: { port: 9464 } });
 * // ... run the role ...
 * await telemetry.shutdown();
 * ```
 */
export async function setupTelemetry(options: TelemetryOptions): Promise<TelemetryHandle> {
  if (active !== undefined) throw new TelemetryAlreadySetupError();

  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.serviceName,
    'horde.role': options.role,
    ...(options.serviceVersion !== undefined ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    ...(options.serviceInstanceId !== undefined ? { 'service.instance.id': options.serviceInstanceId } : {}),
    ...options.resourceAttributes,
  });

  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [exporter] });

  const spans = options.inMemorySpans === true ? new InMemorySpanExporter() : undefined;
  const spanProcessors: SpanProcessor[] = [
    ...(spans !== undefined ? [new SimpleSpanProcessor(spans)] : []),
    ...(options.spanExporters ?? []).map((e) => new SimpleSpanProcessor(e)),
    ...(options.spanProcessors ?? []),
  ];
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  const contextManager = new AsyncLocalStorageContextManager();

  // Registered by hand rather than through tracerProvider.register(), which ignores a refused registration.
  const disableGlobals = (): void => {
    metrics.disable();
    trace.disable();
    propagation.disable();
    context.disable();
  };
  if (!metrics.setGlobalMeterProvider(meterProvider)) {
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    throw new TelemetryGlobalsTakenError('meter provider');
  }
  const okTrace = trace.setGlobalTracerProvider(tracerProvider);
  const okContext = context.setGlobalContextManager(contextManager.enable());
  const okPropagation = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (!okTrace || !okContext || !okPropagation) {
    // Undo only what we registered: the API refuses to overwrite, so disable() would also drop theirs.
    metrics.disable();
    if (okTrace) trace.disable();
    if (okContext) context.disable();
    if (okPropagation) propagation.disable();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    throw new TelemetryGlobalsTakenError(!okTrace ? 'tracer provider' : !okContext ? 'context manager' : 'propagator');
  }

  const metricsHandler = (req: IncomingMessage, res: ServerResponse): void =>
    exporter.getMetricsRequestHandler(req, res);

  const router = createRouter().get(METRICS_PATH, metricsHandler);
  let metricsServer: HttpServerHandle | undefined;
  if (options.metricsServer !== undefined) {
    try {
      metricsServer = await startHttpServer({
        host: options.metricsServer.host ?? DEFAULT_METRICS_HOST,
        port: options.metricsServer.port,
        handler: router.handler,
      });
    } catch (error) {
      disableGlobals();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      throw error;
    }
  }

  let shuttingDown: Promise<void> | undefined;
  const handle: TelemetryHandle = {
    meterProvider,
    tracerProvider,
    exporter,
    metricsHandler,
    router,
    spans,
    metricsServer,
    shutdown() {
      shuttingDown ??= (async () => {
        try {
          await metricsServer?.close();
          await tracerProvider.forceFlush();
          await Promise.all([meterProvider.shutdown(), tracerProvider.shutdown()]);
        } finally {
          disableGlobals();
          contextManager.disable();
          if (active === handle) active = undefined;
        }
      })();
      return shuttingDown;
    },
  };
  active = handle;
  return handle;
}
