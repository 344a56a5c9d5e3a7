import fs from 'node:fs';
import readline from 'node:readline';
import { ChatError } from '../../actors/errors';
import type { ChatMessage, ConversationMeta } from '../../actors/message-types';
import type { ChatStore } from '../../storage-providers/chat-store';
import { journalLineName, parseJournalLine, type JournalHeader } from './jsonl';
import { openStorage, parseStorageSpec, resolvedFrom } from './storage-spec';

/**
 * One conversation's journal, read once, in order, without holding it in memory:
 * a store's pages (streamMessages), a JSONL export read line by line, or a server's history pages
 * (http-source.ts).
 */
export interface JournalSource {
  readonly conversationId: string;
  /** Stored metadata when the source has it (store, or an export header that carried it). */
  readonly meta?: ConversationMeta;
  /**
   * The first sequence id the source holds when older ones were dropped (a bounded memory store);
   * absent when it holds the journal from 1. Ids before it are trimmed history, not a gap.
   */
  readonly historyStartsAt?: number;
  /** Iterates the records once. */
  records(): AsyncIterable<ChatMessage>;
  /**
   * Once records() has ended: the last id the source says the journal went to, when it knows one past its
   * last record (a server whose last history page passed over a hole at the journal's end). Ids after the
   * last record up to it are missing. Absent or undefined: the journal ends with its last record.
   */
  endsAt?(): number | undefined;
  /**
   * records() goes on with the records a server sequences after what it held (`--follow`) until interrupted: each
   * record is printed at once, since someone is waiting on it. Absent: a finished journal, printed in large chunks.
   */
  readonly follows?: boolean;
  close(): Promise<void>;
}

/** Page size for store reads: large enough to amortise round trips, small enough to stay flat. */
export const STORE_PAGE_SIZE = 500;

/** Opens `--storage <spec>` and checks the conversation exists (metadata or at least one record). */
export async function openStoreSource(spec: string, conversationId: string): Promise<JournalSource> {
  const store = await openStorage(parseStorageSpec(spec));
  try {
    return await storeSource(store, conversationId, true);
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** A source over an already open store; `ownsStore` closes it with the source. */
export async function storeSource(store: ChatStore, conversationId: string, ownsStore: boolean): Promise<JournalSource> {
  const meta = await store.getConversation(conversationId);
  if (!meta && (await store.lastSequenceId(conversationId)) === 0) {
    throw new ChatError('CHAT_ERR_NOT_FOUND', `conversation ${conversationId} not found in ${store.name} storage`);
  }
  return {
    conversationId,
    meta,
    records: () => store.streamMessages(conversationId, STORE_PAGE_SIZE),
    close: async () => {
      if (ownsStore) await store.close();
    },
  };
}

/**
 * Opens a JSONL export. The conversation id comes from the argument, else the header, else the
 * first record; an argument that contradicts the header is a usage error (wrong file).
 * Lines are parsed lazily as records() is iterated; a malformed line throws CHAT_ERR_INVALID_MESSAGE.
 */
export async function openJsonlSource(file: string, conversationId?: string): Promise<JournalSource> {
  // A directory opens like a file and fails on the first read, with the bare EISDIR; said up front instead.
  if ((await fs.promises.stat(file).catch(() => undefined))?.isDirectory()) {
    throw new ChatError('CONFIG_ERR_READ', `cannot read ${file}${resolvedFrom(file)}: it is a directory, not a JSONL file`);
  }
  const stream = fs.createReadStream(file, { encoding: 'utf8' });
  // Surface ENOENT/EACCES before reading lines (readline would otherwise swallow them into 'close').
  await new Promise<void>((resolve, reject) => {
    stream.once('ready', () => resolve());
    stream.once('error', (err) =>
      reject(new ChatError('CONFIG_ERR_READ', `cannot read ${file}${resolvedFrom(file)}: ${err.message}`, { cause: err })),
    );
  });
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  const lines = rl[Symbol.asyncIterator]();
  let lineNo = 0;
  const nextLine = async (): Promise<{ text: string; lineNo: number } | undefined> => {
    for (;;) {
      const r = await lines.next().catch((err: unknown) => {
        const why = err instanceof Error ? err.message : String(err);
        throw new ChatError('CONFIG_ERR_READ', `cannot read ${file}${resolvedFrom(file)} after line ${lineNo}: ${why}`, { cause: err });
      });
      if (r.done) return undefined;
      lineNo += 1;
      if (r.value.trim().length > 0) return { text: r.value, lineNo };
    }
  };
  const close = async (): Promise<void> => {
    rl.close();
    stream.destroy();
  };
  try {
    const first = await nextLine();
    let header: JournalHeader | undefined;
    let firstRecord: ChatMessage | undefined;
    if (first) {
      const parsed = parseJournalLine(first.text, first.lineNo, file);
      if (parsed.kind === 'header') header = parsed.header;
      else firstRecord = parsed.record;
    }
    if (conversationId !== undefined && header && header.conversation_id !== conversationId) {
      // A usage error (docs/replay.md): the file is fine, the arguments contradict each other.
      throw new ChatError(
        'CONFIG_ERR_INVALID',
        `${file} holds conversation ${header.conversation_id}, not ${conversationId} (leave the id out to read the file's)`,
      );
    }
    const id = conversationId ?? header?.conversation_id ?? firstRecord?.conversation_id;
    if (id === undefined) throw new ChatError('CHAT_ERR_NOT_FOUND', `${file} is empty: no header and no records`);
    let consumed = false;
    return {
      conversationId: id,
      meta: header?.conversation,
      ...(header?.history_starts_at !== undefined ? { historyStartsAt: header.history_starts_at } : {}),
      async *records() {
        if (consumed) throw new ChatError('CHAT_ERR_INVALID_MESSAGE', 'a JSONL source can be read once');
        consumed = true;
        if (firstRecord) yield firstRecord;
        for (;;) {
          const line = await nextLine();
          if (!line) return;
          const parsed = parseJournalLine(line.text, line.lineNo, file);
          if (parsed.kind === 'header')
            throw new ChatError('CHAT_ERR_INVALID_MESSAGE', `${journalLineName(line.lineNo, file)}: a header may only be the first line`);
          yield parsed.record;
        }
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
