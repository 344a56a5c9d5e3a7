import { createActor } from 'xstate';
import type { Clock } from './clock';
import type { ConversationContext, ConversationInput } from './conversation-context';
import type { ConversationEvent } from './conversation-events';
import { conversationMachine } from './conversation-machine';
import type { MachineActor } from './machine-requests';

/** What one conversation does for its machine's named effects (see conversation-machine.ts). */
export interface ConversationEffects {
  deliver(context: ConversationContext, event: ConversationEvent): void;
  persist(context: ConversationContext, event: ConversationEvent): void;
  acknowledge(context: ConversationContext, event: ConversationEvent): void;
  acknowledgeEach(context: ConversationContext, event: ConversationEvent): void;
  dispatchToAgents(context: ConversationContext): void;
  forwardTyping(event: ConversationEvent): void;
}

/**
 * One machine definition for every conversation of a runtime. `machine.provide()` builds a whole new
 * definition (state nodes, transitions formatted on first use): done per conversation it cost ~0.36 ms
 * of CPU and ~16 KiB of heap per conversation, and spread 200 busy conversations over 200 copies of the
 * same graph. Here the definition is built once and each running actor finds its conversation's
 * effects by its own ref (`self`), registered before it starts.
 */
export class SharedConversationMachine {
  private readonly effectsByActor = new WeakMap<object, ConversationEffects>();
  private readonly machine = conversationMachine.provide({
    actions: {
      deliver: ({ context, event, self }) => this.effectsOf(self).deliver(context, event),
      persist: ({ context, event, self }) => this.effectsOf(self).persist(context, event),
      acknowledge: ({ context, event, self }) => this.effectsOf(self).acknowledge(context, event),
      acknowledgeEach: ({ context, event, self }) => this.effectsOf(self).acknowledgeEach(context, event),
      dispatchToAgents: ({ context, self }) => this.effectsOf(self).dispatchToAgents(context),
      forwardTyping: ({ event, self }) => this.effectsOf(self).forwardTyping(event),
      // In the order the other sequencing steps name them: deliver first, so a crash in any later effect finds
      // the step noted for the supervisor (conversation-actor.ts, DeliveryNote).
      settleBatch: ({ context, event, self }) => {
        const effects = this.effectsOf(self);
        effects.deliver(context, event);
        effects.persist(context, event);
        effects.acknowledgeEach(context, event);
        effects.dispatchToAgents(context);
      },
    },
  });

  /** A started actor of the shared definition whose effects are `effects`; `onError` gets its crash. */
  start(input: ConversationInput, clock: Clock, effects: ConversationEffects, onError: (err: unknown) => void): MachineActor {
    const actor = createActor(this.machine, { input, clock });
    this.effectsByActor.set(actor, effects);
    actor.subscribe({ error: onError });
    actor.start();
    return actor;
  }

  private effectsOf(self: object): ConversationEffects {
    const effects = this.effectsByActor.get(self);
    // Only actors made by start() run this definition, and start() registers before anything runs.
    if (effects === undefined) throw new Error('conversation machine effects used by an actor start() did not make');
    return effects;
  }
}
