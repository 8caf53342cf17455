import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import { hordeTracer } from './meter';

/*
 * W3C trace context for Horde. ComputeHorde peers reject messages with unknown fields, so the context never rides
 * inside a wire message: it travels in HTTP request headers and in the headers of the WebSocket upgrade that opens
 * each per-job connection (`traceparent`, `tracestate`). A job actor keeps its context as a `TraceCarrier` (two
 * strings, safe to hold in XState context and to persist) and opens child spans from it.
 */

/** Header names of the W3C trace context. */
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
export const TRACE_HEADERS: readonly string[] = [TRACEPARENT_HEADER, TRACESTATE_HEADER];

/** A job's trace context as plain data (what `propagation.inject` writes). Empty when there is no active span. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** Header bags as Node and `ws` hand them over (`IncomingHttpHeaders`) or as callers build them. */
export type HeaderCarrier = Readonly<Record<string, string | readonly string[] | number | undefined>>;

/** Reads a header whatever its case (Node lower-cases, hand-built objects may not) and takes the first of a list. */
const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    let value = carrier[key];
    if (value === undefined) {
      const wanted = key.toLowerCase();
      for (const k of Object.keys(carrier)) {
        if (k.toLowerCase() === wanted) {
          value = carrier[k];
          break;
        }
      }
    }
    if (value === undefined) return undefined;
    if (typeof value === 'number') return String(value);
    return typeof value === 'string' ? value : value[0];
  },
};

/**
 * Adds `traceparent`/`tracestate` for `ctx` (default: the active context) to `headers` and returns them. With no
 * recording span in `ctx`, or before `setupTelemetry`, nothing is added: the peer starts a new trace.
 *
 * @example
 * ```ts
 * const socket = new WebSocket(url, { headers: injectTraceHeaders({ 'x-horde-session': id }) });
 * ```
 */
export function injectTraceHeaders(
  headers: Record<string, string> = {},
  ctx: Context = context.active(),
): Record<string, string> {
  propagation.inject(ctx, headers);
  return headers;
}

/**
 * The context carried by incoming headers (an HTTP request's, or the upgrade request's in `ws`'s
 * `connection` handler), on top of `base`. Invalid or missing headers give `base` unchanged.
 *
 * @example
 * ```ts
 * wss.on('connection', (socket, req) => {
 *   const parent = extractTraceContext(req.headers);
 *   const span = hordeTracer().startSpan('miner.job.serve', { kind: SpanKind.SERVER }, parent);
 * });
 * ```
 */
export function extractTraceContext(headers: HeaderCarrier, base: Context = ROOT_CONTEXT): Context {
  return propagation.extract(base, headers, headerGetter);
}

/**
 * The trace context of `ctx` (default: active) as plain data, to keep in a job actor's input or context.
 *
 * @example
 * ```ts
 * withSpan('facilitator.job.submit', {}, () => dispatcher.send({ type: 'job.submitted', job, trace: captureTraceCarrier() }));
 * ```
 */
export function captureTraceCarrier(ctx: Context = context.active()): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const out: TraceCarrier = {};
  if (carrier[TRACEPARENT_HEADER] !== undefined) out.traceparent = carrier[TRACEPARENT_HEADER];
  if (carrier[TRACESTATE_HEADER] !== undefined) out.tracestate = carrier[TRACESTATE_HEADER];
  return out;
}

/** A parent given as a context, a carrier, incoming headers, or nothing (= the active context). */
export type SpanParent = Context | TraceCarrier | HeaderCarrier | undefined;

function isContext(value: unknown): value is Context {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Context).getValue === 'function' &&
    typeof (value as Context).setValue === 'function'
  );
}

function parentContext(parent: SpanParent): Context {
  if (parent === undefined) return context.active();
  if (isContext(parent)) return parent;
  return extractTraceContext(parent as HeaderCarrier);
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Default: `hordeTracer()`. */
  tracer?: Tracer;
}

/**
 * Starts a span as a child of `parent` (a job's carried {@link TraceCarrier}, incoming headers, or a context) and
 * returns it with the context to run the job's work in. The caller ends the span.
 *
 * @example
 * ```ts
 * const { span, ctx } = startChildSpan('validator.job.dial', input.trace, { attributes: { 'horde.job.uuid': uuid } });
 * const headers = injectTraceHeaders({}, ctx); // the miner's span becomes a child of this one
 * ```
 */
export function startChildSpan(
  name: string,
  parent: SpanParent,
  options: SpanOptions = {},
): { span: Span; ctx: Context } {
  const tracer = options.tracer ?? hordeTracer();
  const base = parentContext(parent);
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) },
    base,
  );
  return { span, ctx: trace.setSpan(base, span) };
}

function endWithError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.end();
}

/**
 * Runs `fn` inside a new active span (child of the active context, or of `options.parent`), ends it when `fn`
 * returns or its promise settles, and marks it as an error (with the exception recorded) when `fn` throws or
 * rejects. The result or the error passes through unchanged.
 *
 * @example
 * ```ts
 * const manifest = await withSpan('validator.manifest.fetch', { 'horde.miner': hotkey }, () => fetchManifest(hotkey));
 * ```
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => T,
  options: Omit<SpanOptions, 'attributes'> & { parent?: SpanParent } = {},
): T {
  const { span, ctx } = startChildSpan(name, options.parent, { ...options, attributes });
  let result: T;
  try {
    result = context.with(ctx, fn, undefined, span);
  } catch (error) {
    endWithError(span, error);
    throw error;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        endWithError(span, error);
        throw error;
      },
    ) as T;
  }
  span.end();
  return result;
}

/**
 * Trace and span id of `ctx` (default: active), for log lines; `undefined` outside any span.
 *
 * @example
 * ```ts
 * logger.info('job accepted', { ...traceIds() });
 * ```
 */
export function traceIds(ctx: Context = context.active()): { traceId: string; spanId: string } | undefined {
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}
