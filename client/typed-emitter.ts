/**
 * A tiny typed event emitter that runs in browsers and Node alike (no Node EventEmitter).
 * A listener that throws is reported to `onListenerError` and never stops the other listeners,
 * so one broken UI handler cannot wedge the client's delivery loop.
 */
export type Listener<T> = (payload: T) => void;

export interface TypedEmitter<Events extends object> {
  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
  /** Subscribes for the next emission only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void;
  emit<K extends keyof Events>(event: K, payload: Events[K]): void;
  listenerCount<K extends keyof Events>(event: K): number;
  removeAllListeners(): void;
}

/** Creates an emitter; `onListenerError` defaults to console.error. */
export function createTypedEmitter<Events extends object>(
  onListenerError: (err: unknown, event: keyof Events) => void = (err, event) =>
    console.error(`nlweb-chat client: listener for '${String(event)}' threw`, err),
): TypedEmitter<Events> {
  const listeners = new Map<keyof Events, Set<Listener<never>>>();
  const emitter: TypedEmitter<Events> = {
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as Listener<never>);
      return () => emitter.off(event, listener);
    },
    once(event, listener) {
      const off = emitter.on(event, (payload) => {
        off();
        listener(payload);
      });
      return off;
    },
    off(event, listener) {
      listeners.get(event)?.delete(listener as Listener<never>);
    },
    emit(event, payload) {
      const set = listeners.get(event);
      if (!set) return;
      // Copy: listeners may unsubscribe (once) while we iterate.
      for (const l of [...set]) {
        try {
          (l as Listener<typeof payload>)(payload);
        } catch (err) {
          onListenerError(err, event);
        }
      }
    },
    listenerCount: (event) => listeners.get(event)?.size ?? 0,
    removeAllListeners: () => listeners.clear(),
  };
  return emitter;
}
