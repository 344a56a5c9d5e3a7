import pino from 'pino';
import {
  createChatRuntime,
  createManualClock,
  type Agent,
  type ChatMessage,
  type ChatRuntime,
  type ConversationOutput,
} from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { crashingTelemetry } from '../gateway/crashing-telemetry';
import { collector } from './runtime-helpers';

/**
 * A runtime whose conversation machine can be made to crash in the middle of a step's effects.
 *
 * A subscriber's listener throws (it is disconnected, in isolation) and the log sink that reports it throws
 * too, so the error escapes the isolation and the machine step fails after the output went to the connections
 * before the faulty one. The sink fails once, like a transport that recovers. `failNextDelivery` is the same
 * kind of fault where no connection is involved: the delivery metric throws once.
 */
export async function makeCrashingRuntime(
  options: { agents?: Agent[]; store?: MemoryStore; idleTimeoutS?: number; /** With a store keeping claims. */ claimTtlS?: number } = {},
) {
  let sinkFails = false;
  const sink = {
    write(_line: string): void {
      if (!sinkFails) return;
      sinkFails = false;
      throw new Error('log sink failed');
    },
  };
  const { telemetry, crashNext: failNextDelivery } = crashingTelemetry();
  const restarts = { count: 0 };
  telemetry.actorRestart = () => void restarts.count++;
  const store = options.store ?? new MemoryStore();
  const clock = createManualClock();
  const runtime: ChatRuntime = await createChatRuntime({
    config: {
      chat: {
        supervision: { max_restarts: 3, ...(options.idleTimeoutS === undefined ? {} : { idle_timeout_s: options.idleTimeoutS }) },
        ...(options.claimTtlS === undefined ? {} : { ownership: { instance_id: 'a', claim_ttl_s: options.claimTtlS } }),
      },
    },
    storage: store,
    agents: options.agents ?? [],
    clock,
    logger: pino({ level: 'warn' }, sink),
    telemetry,
  });
  /** A listener that throws on the first output `matches` accepts, arming the sink first. */
  const faultyOnOutput = (matches: (o: ConversationOutput) => boolean) => {
    let failed = false;
    return (o: ConversationOutput) => {
      if (failed || !matches(o)) return;
      failed = true;
      sinkFails = true;
      throw new Error('listener bug');
    };
  };
  /** A listener that throws on the first record `matches` accepts. */
  const faultyOn = (matches: (m: ChatMessage) => boolean) => faultyOnOutput((o) => o.type === 'message' && matches(o.message));
  /**
   * Three connections to conversation 'c' in this order: a collector, the faulty listener (failing on the
   * first record `matches` accepts), another collector: one served before the fault, one after it.
   */
  const subscribeAroundFault = async (participants: [string, string, string], matches: (m: ChatMessage) => boolean) => {
    const before = collector();
    const after = collector();
    await runtime.subscribe('c', participants[0], before.listener);
    await runtime.subscribe('c', participants[1], faultyOn(matches));
    await runtime.subscribe('c', participants[2], after.listener);
    return { before, after };
  };
  return { runtime, store, clock, restarts, failNextDelivery, faultyOnOutput, subscribeAroundFault };
}
