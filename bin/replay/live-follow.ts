import type { ChatMessage } from '../../actors/message-types';
import { createChatClient, type ChatClient, type WebSocketConstructor } from '../../client/chat-client';
import { openServerSource } from './http-source';
import type { JournalSource } from './journal-source';
import { ServerRequestError, type ServerTarget } from './server-client';

/** Asks to be told of Ctrl-C / SIGTERM; returns how to stop listening. The CLI's entry point supplies process signals. */
export type InterruptSubscription = (onInterrupt: () => void) => () => void;

/**
 * The process's SIGINT and SIGTERM. Both are dropped at the first, so a second Ctrl-C ends a CLI that is slow to
 * finish the usual way.
 */
export const processInterrupts: InterruptSubscription = (onInterrupt) => {
  const off = (): void => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  const handler = (): void => {
    off();
    onInterrupt();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return off;
};

/** Why a follow stopped on its own: the server ended the conversation for the follower. */
export interface FollowEnd {
  /** The close code (4003 no longer a member, 4004 the conversation is gone). */
  readonly closeCode: number;
  /** The error code the close carried (CHAT_ERR_NOT_PARTICIPANT, CHAT_ERR_NOT_FOUND). */
  readonly code: string;
  readonly message: string;
}

/** A server source that goes on with the records the server sequences after its history pages. */
export interface FollowSource extends JournalSource {
  readonly follows: true;
  /** After records() ended: why, when the server ended it (undefined: interrupted, or stopped by --to). */
  ended(): FollowEnd | undefined;
}

export interface FollowOptions {
  readonly interrupts: InterruptSubscription;
  /** Notes for stderr (connected, lost, resumed): one line each, without the newline. */
  note(line: string): void;
  /** Tests may route the socket elsewhere; the `ws` package by default (the client's own choice in Node). */
  readonly WebSocketImpl?: WebSocketConstructor;
}

/** Close codes after which the follower cannot go on (docs/protocol.md, Close codes: "stop"). */
const ENDS_FOLLOW: Readonly<Record<number, (conversationId: string, who: string) => string>> = {
  4003: (c, who) => `${who} is no longer a member of conversation ${c} (removed, or left from another connection)`,
  4004: (c) => `conversation ${c} no longer exists on the server (deleted, or lost when a server on memory storage restarted)`,
};

/**
 * `--server ... --follow`: reads the history pages as openServerSource does, then opens the reference client's
 * socket (GET /chat/ws/{id}) with last_sequence_id = the last record read, so the seam has neither a gap nor a
 * duplicate, and yields each record the server delivers, in order and once (the client deduplicates, holds early
 * ones and resumes from its last delivered id after a disconnect). Ends on an interrupt (records() returns), on a
 * close that ends the conversation for the follower (returns; ended() says why), or on any other end of the client
 * (gave up reconnecting, refused credentials: records() throws).
 */
export async function openFollowSource(target: ServerTarget, conversationId: string, options: FollowOptions): Promise<FollowSource> {
  const http = await openServerSource(target, conversationId);
  let end: FollowEnd | undefined;
  let lastRead: number | undefined;
  let liveRecords = 0;
  let interrupted = false;
  let wake: (() => void) | undefined;
  const unsubscribe = options.interrupts(() => {
    interrupted = true;
    wake?.();
  });
  let client: ChatClient | undefined;
  return {
    conversationId,
    ...(http.meta ? { meta: http.meta } : {}),
    ...(http.historyStartsAt !== undefined ? { historyStartsAt: http.historyStartsAt } : {}),
    // A hole at the end of the pages is only known to be one while nothing came after it live.
    endsAt: () => (liveRecords === 0 ? http.endsAt?.() : undefined),
    follows: true,
    ended: () => end,
    async *records() {
      for await (const record of http.records()) {
        lastRead = record.sequence_id;
        yield record;
        if (interrupted) return;
      }
      if (interrupted) return;
      // Nothing read (a trimmed or empty journal): start where the pages say the journal is accounted for.
      const resumeAfter = lastRead ?? Math.max(http.endsAt?.() ?? 0, (http.historyStartsAt ?? 1) - 1);
      const queue: ChatMessage[] = [];
      let failure: Error | undefined;
      let finished = false;
      const c = createChatClient({
        url: target.url,
        conversationId,
        lastSequenceId: resumeAfter,
        ...(target.token !== undefined ? { token: target.token } : {}),
        ...(target.user !== undefined ? { userId: target.user } : {}),
        ...(options.WebSocketImpl ? { WebSocketImpl: options.WebSocketImpl } : {}),
      });
      client = c;
      // The member the socket is connected as (the token's subject), named when the server ends it.
      let who = target.user ?? 'the caller';
      c.on('message', (m) => {
        queue.push(m);
        wake?.();
      });
      c.on('connected', (info) => {
        who = info.participantId;
        const after = c.lastSequenceId ?? resumeAfter;
        options.note(
          info.reconnect
            ? `reconnected to ${info.url}: resuming after #${after}`
            : `following conversation ${conversationId} live after #${after} (stop with Ctrl-C)`,
        );
      });
      c.on('disconnected', ({ code, reason, willReconnect }) => {
        if (willReconnect) options.note(`connection lost (close ${code}${reason ? ` ${reason}` : ''}): reconnecting`);
      });
      c.on('closed', ({ code, reason }) => {
        finished = true;
        const ending = code === undefined ? undefined : ENDS_FOLLOW[code];
        if (code !== undefined && ending) {
          end = {
            closeCode: code,
            code: closeErrorCode(reason) ?? 'CLIENT_CLOSED',
            message: `${ending(conversationId, who)}: the server closed the socket with ${code}`,
          };
        } else if (!interrupted) {
          // Gave up reconnecting, or refused for good (credentials, a failed conversation): an error, as over HTTP.
          failure = new ServerRequestError(
            closeErrorCode(reason) ?? 'CLIENT_CLOSED',
            `following conversation ${conversationId} stopped: ${reason}`,
          );
        }
        wake?.();
      });
      try {
        c.connect().catch(() => undefined); // the 'closed' handler above says why it ended
        for (;;) {
          while (queue.length > 0) {
            const record = queue.shift()!;
            lastRead = record.sequence_id;
            liveRecords += 1;
            yield record;
            if (interrupted) return;
          }
          if (interrupted || finished) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
        if (failure && !interrupted) throw failure;
      } finally {
        c.close();
      }
    },
    async close() {
      unsubscribe();
      client?.close();
      await http.close();
    },
  };
}

/**
 * The server's error code in the client's end reason (`fatal close 4003: CHAT_ERR_NOT_PARTICIPANT`); undefined when
 * it carries none (`gave up after 10 failed attempts`), which the client itself reports as CLIENT_CLOSED.
 */
function closeErrorCode(reason: string): string | undefined {
  return /\b([A-Z]+_ERR_[A-Z_]+)\b/.exec(reason)?.[1];
}
