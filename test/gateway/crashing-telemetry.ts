import { createNoopTelemetry } from '../../observability/chat-telemetry';

/**
 * Runtime telemetry whose delivery metric throws once `crashNext()` is called: that step's machine crashes, a fault
 * with no connection involved, for tests of what a crashed or restarting conversation looks like (gateway tests,
 * and the actors' crash-helpers.ts).
 */
export function crashingTelemetry() {
  const telemetry = createNoopTelemetry();
  let armed = false;
  telemetry.messagesOut = () => {
    if (!armed) return;
    armed = false;
    throw new Error('metric exporter failed');
  };
  return { telemetry, crashNext: () => (armed = true) };
}
