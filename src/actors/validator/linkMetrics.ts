/**
 * Instruments of the validator's durable outbox and facilitator link, created once per meter (rule 9).
 *
 * Exported (Prometheus) names: `horde_validator_outbox_pending_rows`, `horde_validator_outbox_reported_statuses_total`,
 * `horde_validator_outbox_refused_statuses_total`, `horde_validator_link_sent_statuses_total{resend}`,
 * `horde_validator_link_acked_statuses_total{outcome}`, `horde_validator_link_auth_refusals_total{reason}`,
 * `horde_validator_link_unmatched_responses_total`, `horde_validator_link_heartbeats_total`,
 * `horde_validator_link_authenticated_connections`, `horde_validator_link_decode_errors_total`.
 */
import type { Counter, Meter, UpDownCounter } from '@opentelemetry/api';
import { hordeMeter } from '../../telemetry/meter';

export interface OutboxMetrics {
  /** Rows waiting for the facilitator's answer (up on report, down on acknowledge). */
  readonly pendingRows: UpDownCounter;
  readonly reported: Counter;
  /** Statuses refused because the outbox was full (`OutboxFullError`). */
  readonly refused: Counter;
}

export interface LinkMetrics {
  /** Status frames handed to the socket; `resend=true` for rows sent before on an earlier connection. */
  readonly sent: Counter;
  /** Rows acknowledged, by outcome. */
  readonly acked: Counter;
  /** Authentication attempts that failed (`reason`: the Response error type, `timeout`, `transport_stopped`). */
  readonly authRefusals: Counter;
  /** A `Response` arrived with nothing waiting for it. */
  readonly unmatchedResponses: Counter;
  readonly heartbeats: Counter;
  /** 1 while the link is authenticated, else 0. */
  readonly authenticated: UpDownCounter;
  /** Facilitator frames that did not decode. */
  readonly decodeErrors: Counter;
}

/** @example `const metrics = createOutboxMetrics(meterProvider.getMeter('test'));` */
export function createOutboxMetrics(meter: Meter = hordeMeter()): OutboxMetrics {
  return {
    pendingRows: meter.createUpDownCounter('horde_validator_outbox_pending_rows', {
      description: 'Status updates stored in the outbox and not yet acknowledged by the facilitator.',
      unit: '{row}',
    }),
    reported: meter.createCounter('horde_validator_outbox_reported_statuses', {
      description: 'Status updates written to the outbox.',
      unit: '{status}',
    }),
    refused: meter.createCounter('horde_validator_outbox_refused_statuses', {
      description: 'Status updates refused because the outbox was full (OutboxFullError).',
      unit: '{status}',
    }),
  };
}

/** @example `const metrics = createLinkMetrics(meterProvider.getMeter('test'));` */
export function createLinkMetrics(meter: Meter = hordeMeter()): LinkMetrics {
  return {
    sent: meter.createCounter('horde_validator_link_sent_statuses', {
      description: 'Status update frames sent to the facilitator (resend=true: sent before on an earlier connection).',
      unit: '{status}',
    }),
    acked: meter.createCounter('horde_validator_link_acked_statuses', {
      description: 'Outbox rows acknowledged by a facilitator Response, by outcome (stored, duplicate, job_not_found, refused).',
      unit: '{status}',
    }),
    authRefusals: meter.createCounter('horde_validator_link_auth_refusals', {
      description: 'Failed authentications to the facilitator, by reason.',
      unit: '{refusal}',
    }),
    unmatchedResponses: meter.createCounter('horde_validator_link_unmatched_responses', {
      description: 'Facilitator Responses that arrived while no request was waiting for one.',
      unit: '{response}',
    }),
    heartbeats: meter.createCounter('horde_validator_link_heartbeats', {
      description: 'V0Heartbeat messages sent to the facilitator.',
      unit: '{heartbeat}',
    }),
    authenticated: meter.createUpDownCounter('horde_validator_link_authenticated_connections', {
      description: '1 while the facilitator link is authenticated.',
      unit: '{connection}',
    }),
    decodeErrors: meter.createCounter('horde_validator_link_decode_errors', {
      description: 'Frames from the facilitator that could not be decoded.',
      unit: '{frame}',
    }),
  };
}
