import { context, trace, INVALID_SPAN_CONTEXT, SpanStatusCode, TraceFlags, type Context, type Span, type Tracer } from '@opentelemetry/api';

/** A shared span that records nothing (for the children of unsampled messages). */
const NOT_RECORDED: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
import { isChatError } from './errors';
import { SPANS, SPAN_ATTRIBUTES } from '../observability/telemetry-names';
import type { PostResult } from './runtime-types';

/**
 * One trace per posted message: `chat.message.receive` (root, or a child of the caller's active span)
 * with children `sequence` (the actor assigns the id), `deliver` (fan-out, created inside the actor step
 * from the active context) and `persist` (ends when the journal has the record). Agent calls started by
 * the message run in the same context, so `nlweb.ask` joins the trace. With no SDK registered every call
 * here is a no-op span (tens of nanoseconds).
 */
export class MessageTrace {
  readonly receive: Span;
  /**
   * The receive span's context, or undefined for messages the sampler dropped: then no child spans and
   * no context switch are paid for, nor the copy of the active context building it would cost.
   */
  private readonly context: Context | undefined;

  constructor(
    private readonly tracer: Tracer,
    conversationId: string,
    senderType: string,
  ) {
    this.receive = tracer.startSpan(SPANS.receive, {
      attributes: { [SPAN_ATTRIBUTES.conversationId]: conversationId, [SPAN_ATTRIBUTES.senderType]: senderType },
    });
    this.context = this.receive.isRecording() ? trace.setSpan(context.active(), this.receive) : undefined;
  }

  /**
   * Runs `fn.call(self, a, b, c)` with the receive span active (so deliver spans and agent calls become its
   * children). Arguments, not a closure: this runs for every message, and an unsampled one needs no closure at all.
   */
  run<S, A, B, C, T>(fn: (this: S, a: A, b: B, c: C) => T, self: S, a: A, b: B, c: C): T {
    return this.context ? context.with(this.context, fn, self, a, b, c) : fn.call(self, a, b, c);
  }

  startSequence(): Span {
    return this.context ? this.tracer.startSpan(SPANS.sequence, undefined, this.context) : NOT_RECORDED;
  }

  /**
   * The persist span ends when the record is stored (it stays open if the runtime closes first). Takes the receipt,
   * not a closure reading it: an unsampled message (every one without a tracing SDK) then allocates nothing here.
   */
  persisted(receipt: Pick<PostResult, 'sequence_id' | 'whenPersisted'>): void {
    if (!this.context) return;
    const span = this.tracer.startSpan(SPANS.persist, { attributes: { [SPAN_ATTRIBUTES.sequenceId]: receipt.sequence_id } }, this.context);
    void receipt.whenPersisted.then(() => span.end());
  }

  end(sequenceId?: number, err?: unknown): void {
    if (sequenceId !== undefined) this.receive.setAttribute(SPAN_ATTRIBUTES.sequenceId, sequenceId);
    if (err !== undefined) {
      this.receive.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      if (isChatError(err)) this.receive.setAttribute(SPAN_ATTRIBUTES.errorCode, err.code);
    }
    this.receive.end();
  }
}

/**
 * Whether traceDelivery would make a `deliver` span now (the active span context is sampled): a caller on the hot
 * path asks first and, when not, delivers without making traceDelivery's two closures.
 */
export function deliveryTraced(): boolean {
  const parent = trace.getSpanContext(context.active());
  return parent !== undefined && (parent.traceFlags & TraceFlags.SAMPLED) !== 0;
}

/**
 * Wraps the fan-out of one actor step in a `deliver` span under whatever span context is active, if it
 * is sampled. Sampled, not recording: an agent's answer is delivered after the message's receive span
 * ended, and still belongs in its trace.
 */
export function traceDelivery<T>(tracer: Tracer, conversationId: string, fn: () => T, recipients: () => number): T {
  if (!deliveryTraced()) return fn();
  const span = tracer.startSpan(SPANS.deliver, { attributes: { [SPAN_ATTRIBUTES.conversationId]: conversationId } });
  try {
    return fn();
  } finally {
    span.setAttribute(SPAN_ATTRIBUTES.recipients, recipients());
    span.end();
  }
}
