import type { Counter, Meter } from '@opentelemetry/api';
import { hordeMeter } from '../telemetry/meter';
import type { Directive } from './policy';

/**
 * Every instrument of the supervisors, created once per meter. Exported (Prometheus) names:
 * `horde_supervisor_decisions_total{supervisor, child, directive}`, `horde_supervisor_restarts_total{supervisor,
 * child}`, `horde_supervisor_escalations_total{supervisor}`, `horde_supervisor_rejections_total{supervisor, request}`
 * (the exporter adds `_total` to counters).
 *
 * Label cardinality: `child` is the child spec's id. Give dynamic children (one per connection or job) ids from
 * a bounded set, or supervise them under their own supervisor whose name is the label that matters.
 *
 * @example
 * ```ts
 * const metrics = new SupervisorMetrics(meterProvider.getMeter('test'));
 * createActor(supervisorMachine, { input: { policy, children, metrics } });
 * ```
 */
export class SupervisorMetrics {
  private readonly decisions: Counter;
  private readonly restarts: Counter;
  private readonly escalations: Counter;
  private readonly rejections: Counter;

  constructor(meter: Meter = hordeMeter()) {
    this.decisions = meter.createCounter('horde_supervisor_decisions', {
      description: 'Decisions supervisors took about exits of their children, by directive.',
      unit: '{decision}',
    });
    this.restarts = meter.createCounter('horde_supervisor_restarts', {
      description: 'Children started again after a restart decision (resumes excluded; one per child).',
      unit: '{restart}',
    });
    this.escalations = meter.createCounter('horde_supervisor_escalations', {
      description: 'Supervisors that gave up and failed to their parent (intensity exceeded or decider).',
      unit: '{escalation}',
    });
    this.rejections = meter.createCounter('horde_supervisor_rejections', {
      description:
        'start_child / stop_child requests refused (invalid spec, id in use, maxChildren reached, unknown id).',
      unit: '{request}',
    });
  }

  decision(supervisor: string, child: string, directive: Directive): void {
    this.decisions.add(1, { supervisor, child, directive });
  }

  restarted(supervisor: string, child: string): void {
    this.restarts.add(1, { supervisor, child });
  }

  escalated(supervisor: string): void {
    this.escalations.add(1, { supervisor });
  }

  rejected(supervisor: string, request: 'start_child' | 'stop_child'): void {
    this.rejections.add(1, { supervisor, request });
  }
}

let shared: SupervisorMetrics | undefined;

/**
 * The process-wide instruments on `hordeMeter()`, created on first use. Create them after telemetry setup has
 * registered its meter provider: instruments made on the no-op meter stay no-ops.
 */
export function defaultSupervisorMetrics(): SupervisorMetrics {
  shared ??= new SupervisorMetrics();
  return shared;
}
