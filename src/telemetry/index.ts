/** Horde telemetry: OpenTelemetry setup, /metrics, health, the actor bridge, trace context, the inspector. */
export { hordeMeter, hordeTracer, HORDE_SCOPE } from './meter';
export { setupTelemetry, activeTelemetry, type TelemetryOptions, type TelemetryHandle } from './setup';
export {
  healthRoutes,
  livenessOf,
  readinessOf,
  readyTagReadiness,
  type HealthOptions,
  type HealthReport,
  type Readiness,
  type RootActorSource,
} from './health';
export {
  createActorBridge,
  combineInspectors,
  actorKind,
  normaliseEventType,
  type ActorBridge,
  type ActorBridgeOptions,
  type InspectObserver,
} from './actor-bridge';
export {
  injectTraceHeaders,
  extractTraceContext,
  captureTraceCarrier,
  startChildSpan,
  withSpan,
  traceIds,
  TRACE_HEADERS,
  type TraceCarrier,
  type HeaderCarrier,
  type SpanParent,
} from './trace-context';
export {
  createBridgeInspector,
  createFileInspector,
  createInspectors,
  inspectorFromEnv,
  sanitizeInspectionEvent,
  type HordeInspector,
  type BridgeInspector,
} from './inspector';
export { startInspectorBridge, type InspectorBridge } from './inspector-bridge';
export { sanitize, secretFieldTest } from './sanitize';
export * from './errors';
