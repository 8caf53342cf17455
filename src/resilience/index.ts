/** Resilience: retry policies, circuit breakers, and their metrics and defaults. Public API. */
export * from './circuitBreaker';
export * from './defaults';
export * from './errors';
export { instrumentedCircuitBreakerMachine } from './instrumentedCircuitBreaker';
export * from './metrics';
export * from './retry';
