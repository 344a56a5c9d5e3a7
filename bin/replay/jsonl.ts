import { ChatError } from '../../actors/errors';
import { SENDER_TYPES, type ChatMessage, type ConversationMeta } from '../../actors/message-types';

/** First line of an exported journal file. */
export interface JournalHeader {
  readonly format: 'nlweb-chat-journal';
  readonly version: 1;
  readonly conversation_id: string;
  readonly exported_at: string;
  /** The conversation's stored metadata, when the source had it (informational). */
  readonly conversation?: ConversationMeta;
  /**
   * The first sequence id the source still held when ids before it had been dropped (a bounded memory
   * store); absent when the journal is whole from 1. `--check` starts there instead of reporting a gap.
   */
  readonly history_starts_at?: number;
}

export const JOURNAL_FORMAT = 'nlweb-chat-journal';
export const JOURNAL_VERSION = 1;

export function makeHeader(conversationId: string, exportedAt: Date, meta?: ConversationMeta, historyStartsAt = 1): JournalHeader {
  return {
    format: JOURNAL_FORMAT,
    version: JOURNAL_VERSION,
    conversation_id: conversationId,
    exported_at: exportedAt.toISOString(),
    ...(meta ? { conversation: meta } : {}),
    ...(historyStartsAt > 1 ? { history_starts_at: historyStartsAt } : {}),
  };
}

/** One JSON line (no trailing newline). */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value);
}

/** A parsed line: the header, or one journal record. */
export type JournalLine =
  { readonly kind: 'header'; readonly header: JournalHeader } | { readonly kind: 'record'; readonly record: ChatMessage };

/**
 * Parses one non-empty line of a journal file. A line with a `format` field is a header (it must
 * be ours, version 1); anything else must have every ChatMessage field with the right type.
 * Throws CHAT_ERR_INVALID_MESSAGE naming the line number, so the CLI can point at it, and the file when given (`diff`
 * reads two: "line 1: not valid JSON" did not say which).
 */
export function parseJournalLine(text: string, lineNo: number, file?: string): JournalLine {
  const at = journalLineName(lineNo, file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ChatError('CHAT_ERR_INVALID_MESSAGE', `${at}: not valid JSON`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ChatError('CHAT_ERR_INVALID_MESSAGE', `${at}: not a JSON object`);
  }
  const o = value as Record<string, unknown>;
  if ('format' in o) {
    if (o.format !== JOURNAL_FORMAT || o.version !== JOURNAL_VERSION || typeof o.conversation_id !== 'string') {
      throw new ChatError(
        'CHAT_ERR_INVALID_MESSAGE',
        `${at}: unsupported journal header (want format ${JOURNAL_FORMAT} version ${JOURNAL_VERSION} with a conversation_id)`,
      );
    }
    const start = o.history_starts_at;
    if (start !== undefined && (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 1)) {
      throw new ChatError('CHAT_ERR_INVALID_MESSAGE', `${at}: history_starts_at must be a positive integer`);
    }
    return { kind: 'header', header: o as unknown as JournalHeader };
  }
  const problem = recordProblem(o);
  if (problem) throw new ChatError('CHAT_ERR_INVALID_MESSAGE', `${at}: not a journal record (${problem})`);
  return { kind: 'record', record: o as unknown as ChatMessage };
}

/** How a message names a line of a journal file: `line 7`, or `<file>: line 7`. */
export function journalLineName(lineNo: number, file?: string): string {
  return file === undefined ? `line ${lineNo}` : `${file}: line ${lineNo}`;
}

/** Why `o` is not a complete ChatMessage (a field missing or of the wrong type), or undefined. */
export function recordProblem(o: Record<string, unknown>): string | undefined {
  for (const key of ['message_id', 'conversation_id', 'sender_id', 'message_type', 'content', 'timestamp'] as const) {
    if (typeof o[key] !== 'string') return `${key} must be a string`;
  }
  if (typeof o.sequence_id !== 'number' || !Number.isSafeInteger(o.sequence_id)) return 'sequence_id must be an integer';
  if (!(SENDER_TYPES as readonly unknown[]).includes(o.sender_type)) return `sender_type must be one of ${SENDER_TYPES.join(', ')}`;
  if (o.metadata === null || typeof o.metadata !== 'object' || Array.isArray(o.metadata)) return 'metadata must be an object';
  return undefined;
}
