import { context, SpanStatusCode, trace, type Context, type Counter, type Histogram, type Meter, type Span, type Tracer } from '@opentelemetry/api';
import type { JobDriverObserver, JobDriverOutput, ObservedStage, StageOutcome } from '../../machines/jobDriver.machine';
import { hordeMeter, hordeTracer } from '../../telemetry/meter';
import { silentLogger, type Logger } from '../../telemetry/logger';

/** The job driver's and the executor root's instruments, created in one place from an injected meter. */
export interface JobDriverMetrics {
  /** `horde_executor_stage_duration_ms{stage,outcome}`: time spent in each stage (cleanup included). */
  readonly stageDurationMs: Histogram;
  /** `horde_executor_jobs_total{outcome,reason}`: jobs ended, by outcome and failure reason. */
  readonly jobs: Counter;
  /** `horde_executor_final_messages_total{message_type}`: final messages handed to the miner link. */
  readonly finalMessages: Counter;
  /** Final messages the root refused because one was already sent (must stay 0: a bug detector). */
  readonly finalMessagesRefused: Counter;
  /** Final messages that could not reach the miner (the link was gone for good, or closed before flushing). */
  readonly finalMessagesUndelivered: Counter;
  /** GenericError replies not sent because the per-process cap was reached. */
  readonly genericErrorsSuppressed: Counter;
}

/**
 * Creates the instruments. Call it when the executor is built (after telemetry setup), never at module load: an
 * instrument taken from the no-op meter stays a no-op.
 *
 * @example
 * ```ts
 * const metrics = createJobDriverMetrics(meterProvider.getMeter('test'));
 * ```
 */
export function createJobDriverMetrics(meter: Meter = hordeMeter()): JobDriverMetrics {
  return {
    stageDurationMs: meter.createHistogram('horde_executor_stage_duration_ms', {
      description: 'time spent in each job driver stage, by stage and outcome',
      unit: 'ms',
    }),
    jobs: meter.createCounter('horde_executor_jobs', { description: 'jobs ended, by outcome and reason' }),
    finalMessages: meter.createCounter('horde_executor_final_messages', { description: 'final messages handed to the miner link' }),
    finalMessagesRefused: meter.createCounter('horde_executor_final_messages_refused', {
      description: 'second final messages refused by the executor root (a bug if ever non-zero)',
    }),
    finalMessagesUndelivered: meter.createCounter('horde_executor_final_messages_undelivered', {
      description: 'final messages that could not be flushed to the miner',
    }),
    genericErrorsSuppressed: meter.createCounter('horde_executor_generic_errors_suppressed', {
      description: 'GenericError replies not sent because the per-process cap was reached',
    }),
  };
}

export interface JobObserverOptions {
  readonly metrics: JobDriverMetrics;
  readonly logger?: Logger;
  readonly tracer?: Tracer;
  /** Parent of the job span (the trace the miner started, when it passed one). */
  readonly parentContext?: Context;
  /** Attributes on the job span (never secrets: the token is not one of them). */
  readonly attributes?: Readonly<Record<string, string>>;
}

const STATUS_BY_OUTCOME: Readonly<Record<StageOutcome, SpanStatusCode>> = {
  ok: SpanStatusCode.OK,
  failed: SpanStatusCode.ERROR,
  timeout: SpanStatusCode.ERROR,
  aborted: SpanStatusCode.ERROR,
};

/**
 * The driver's observer: a span per job (`executor.job`) with a child span per stage (`executor.stage.<stage>`),
 * the stage-duration histogram and the jobs counter, and log lines.
 *
 * @example
 * ```ts
 * const observer = createJobObserver({ metrics: createJobDriverMetrics(), logger });
 * createActor(driverLogic, { input: { settings, clock, observer } });
 * ```
 */
export function createJobObserver(options: JobObserverOptions): JobDriverObserver & { readonly jobSpan: Span } {
  const tracer = options.tracer ?? hordeTracer();
  const logger = options.logger ?? silentLogger;
  const parent = options.parentContext ?? context.active();
  const jobSpan = tracer.startSpan('executor.job', { attributes: { ...options.attributes } }, parent);
  const jobContext = trace.setSpan(parent, jobSpan);
  const stageSpans = new Map<ObservedStage, Span>();
  return {
    jobSpan,
    stageStarted(stage) {
      stageSpans.get(stage)?.end();
      stageSpans.set(stage, tracer.startSpan(`executor.stage.${stage}`, { attributes: { 'horde.stage': stage } }, jobContext));
      logger.debug('stage started', { stage });
    },
    stageEnded(stage, outcome, durationMs) {
      options.metrics.stageDurationMs.record(durationMs, { stage, outcome });
      const span = stageSpans.get(stage);
      if (span !== undefined) {
        span.setAttribute('horde.outcome', outcome);
        span.setStatus({ code: STATUS_BY_OUTCOME[outcome] });
        span.end();
        stageSpans.delete(stage);
      }
      logger.info('stage ended', { stage, outcome, durationMs: Math.round(durationMs) });
    },
    finished(output: JobDriverOutput) {
      options.metrics.jobs.add(1, { outcome: output.outcome, reason: output.reason });
      for (const span of stageSpans.values()) span.end();
      stageSpans.clear();
      jobSpan.setAttributes({ 'horde.outcome': output.outcome, 'horde.reason': output.reason, 'horde.stage': output.stage });
      jobSpan.setStatus({ code: output.outcome === 'completed' ? SpanStatusCode.OK : SpanStatusCode.ERROR, message: output.message });
      jobSpan.end();
      const level = output.outcome === 'completed' ? 'info' : 'warn';
      logger.log(level, 'job ended', {
        outcome: output.outcome,
        reason: output.reason,
        stage: output.stage,
        message: output.message,
        cleanup: output.cleanup,
      });
    },
    log(level, msg, fields) {
      logger.log(level, msg, fields);
    },
  };
}
