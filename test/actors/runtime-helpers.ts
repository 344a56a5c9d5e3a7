import { createChatRuntime, createEchoAgent, createManualClock, createCounterIds } from '../../actors';
import type { Agent, ChatRuntime, ConversationOutput, ChatMessage, RecordListener } from '../../actors';
import type { ConfigInput } from '../../config/config-types';
import type { ChatTelemetry } from '../../observability/chat-telemetry';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../observability/logger';
import { MemoryStore } from '../../storage-providers';

/** A runtime on a manual clock with memory storage; everything a test opens is closed by close(). */
export async function makeRuntime(
  options: {
    config?: ConfigInput;
    agents?: Agent[];
    store?: MemoryStore;
    logger?: Logger;
    telemetry?: ChatTelemetry;
    onRecord?: RecordListener;
  } = {},
) {
  const clock = createManualClock();
  const store = options.store ?? new MemoryStore();
  const runtime = await createChatRuntime({
    config: { observability: { log_level: 'silent' }, ...options.config },
    storage: store,
    agents: options.agents ?? [createEchoAgent()],
    clock,
    ids: createCounterIds('c'),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.onRecord ? { onRecord: options.onRecord } : {}),
  });
  return { runtime, clock, store };
}

/** Conversation 'c' of alice (its owner), bob and the AI member `agentId`: multi mode, so human posts wait for the window. */
export async function createMultiModeRoom(runtime: Pick<ChatRuntime, 'createConversation'>, agentId: string): Promise<void> {
  await runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [
      { participant_id: 'bob', participant_type: 'human' },
      { participant_id: agentId, participant_type: 'ai' },
    ],
  });
}

/**
 * Conversation 'c' of alice (its owner) and bob, live with bob subscribed, as it is for a connected socket: posts and
 * changes reach the actor without waiting for a load (the arrival-order tests call them back to back).
 */
export async function liveTwoMemberConversation(runtime: Pick<ChatRuntime, 'createConversation' | 'subscribe'>): Promise<void> {
  await runtime.createConversation({
    conversation_id: 'c',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  await runtime.subscribe('c', 'bob', collector().listener);
}

/** An agent that declines every turn (`wantsTurn` false): it writes nothing, so nothing calls the conversation back. */
export function decliningAgent(id = 'shy', displayName = 'Shy'): Agent {
  return {
    id,
    displayName,
    wantsTurn: () => false,
    async *respond() {
      yield* [];
    },
  };
}

/** Collects a subscriber's outputs; `messages` are the sequenced records in delivery order. */
export function collector() {
  const outputs: ConversationOutput[] = [];
  return {
    outputs,
    listener: (o: ConversationOutput) => void outputs.push(o),
    get messages(): ChatMessage[] {
      return outputs.flatMap((o) => (o.type === 'message' ? [o.message] : []));
    },
  };
}

/** Resolves after pending microtasks and promise chains (memory-store writes) have run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A memory store whose journal writes wait until `release()`: storage that is slow or down. */
export class GatedStore extends MemoryStore {
  /** Pending while blocked: a subclass gates more writes with it. */
  protected gate: Promise<void> | undefined;
  private open_: (() => void) | undefined;
  appendCalls = 0;
  block(): void {
    this.gate = new Promise((resolve) => (this.open_ = resolve));
  }
  release(): void {
    this.open_?.();
    this.gate = undefined;
  }
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    this.appendCalls++;
    if (this.gate) await this.gate;
    return super._appendMessages(conversationId, messages, fenceEpoch);
  }
}

/** An agent that answers only when aborted (records its signals), to keep jobs pending. */
export function createBlockingAgent(id: string): Agent & { signals: AbortSignal[]; started: string[] } {
  const signals: AbortSignal[] = [];
  const started: string[] = [];
  return {
    id,
    displayName: id,
    signals,
    started,
    async *respond(turn, signal) {
      signals.push(signal);
      started.push(turn.trigger.message_id);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      yield* [];
    },
  };
}

/** A real logger at `level` whose JSON lines are collected, parsed, in `logged` (what an operator would read). */
export function capturedLogger(level: 'error' | 'warn' | 'info' | 'debug'): { logger: Logger; logged: Array<Record<string, unknown>> } {
  const logged: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write: (chunk, _encoding, done) => {
      logged.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level, destination }), logged };
}

/** A memory store whose journal reads finish a turn later (one helper for the actors' and the gateway's tests). */
export { NextTurnReads } from '../gateway/next-turn-reads';
