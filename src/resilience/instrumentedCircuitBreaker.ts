import { circuitBreakerMachine } from '../machines/circuitBreaker.machine';
import { circuitMetrics, type CircuitMetrics } from './metrics';

/**
 * The circuit breaker machine recording `horde_circuit_state{name}`, `horde_circuit_transitions_total{name,from,to}`
 * and `horde_circuit_rejected_total{name}` (the same instruments the `CircuitBreaker` class records).
 *
 * @example
 * ```ts
 * const breaker = createActor(instrumentedCircuitBreakerMachine(), { input: { name: 'facilitator' } }).start();
 * ```
 */
export function instrumentedCircuitBreakerMachine(
  metrics: CircuitMetrics = circuitMetrics(),
): typeof circuitBreakerMachine {
  return circuitBreakerMachine.provide({
    actions: {
      recordStarted: (_, name) => metrics.phase(name, 'closed'),
      recordTransition: (_, transition) => metrics.transition(transition),
      recordRejected: (_, name) => metrics.rejected(name),
    },
  });
}
