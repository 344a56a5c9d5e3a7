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
export function collectMessages(client: ChatClient): {
  seqs: number[];
  contents: string[];
  /** Resolves once a record with sequence id >= seq was delivered. */
  waitFor(seq: number): Promise<void>;
  /** Resolves with the sequence id of the first record with this content. */
  waitForContent(content: string): Promise<number>;
} {
  const seqs: number[] = [];
  const contents: string[] = [];
  const waiters: { seq: number; resolve: () => void }[] = [];
  const contentWaiters: { content: string; resolve: (seq: number) => void }[] = [];
  client.on('message', (m) => {
    seqs.push(m.sequence_id);
    contents.push(m.content);
    for (const w of [...contentWaiters]) {
      if (m.content === w.content) {
        contentWaiters.splice(contentWaiters.indexOf(w), 1);
        w.resolve(m.sequence_id);
      }
    }
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
    waitForContent(content) {
      const i = contents.indexOf(content);
      if (i >= 0) return Promise.resolve(seqs[i]!);
      return new Promise((resolve) => contentWaiters.push({ content, resolve }));
    },
  };
}
