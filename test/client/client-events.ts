/** Awaiting client events in tests (no sleeps: every wait is for something the client emits). */
import type { ChatClient, ChatClientEvents } from '../../client/chat-client';

/** Resolves with the next emission of `event` (optionally the next one matching `pred`). */
export function nextEvent<K extends keyof ChatClientEvents>(
  client: ChatClient,
  event: K,
  pred: (payload: ChatClientEvents[K]) => boolean = () => true,
): Promise<ChatClientEvents[K]> {
  return new Promise((resolve) => {
    const off = client.on(event, (payload) => {
      if (!pred(payload)) return;
      off();
      resolve(payload);
    });
  });
}

/** Collects every delivered message's content/sequence id for assertions. */
export function collectMessages(client: ChatClient): { seqs: number[]; contents: string[]; waitFor(seq: number): Promise<void> } {
  const seqs: number[] = [];
  const contents: string[] = [];
  const waiters: { seq: number; resolve: () => void }[] = [];
  client.on('message', (m) => {
    seqs.push(m.sequence_id);
    contents.push(m.content);
    for (const w of [...waiters]) {
      if (m.sequence_id >= w.seq) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    seqs,
    contents,
    waitFor(seq) {
      if (seqs.length > 0 && seqs[seqs.length - 1]! >= seq) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ seq, resolve }));
    },
  };
}
