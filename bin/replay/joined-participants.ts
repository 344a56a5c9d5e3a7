import { MESSAGE_TYPES, type ChatMessage } from '../../actors/message-types';

/** Participants remembered for the note; a conversation has at most chat.limits.max_participants at once. */
const REMEMBERED = 1000;
/** Ids listed in the note. */
const LISTED = 20;

/**
 * Who joined a conversation (ids and display names, from its join records), to say what `--as` could have been
 * given when the participant it names never joined. The usual mistake is a display name ("Bob", as a bug report
 * names him) for the id (`bob`), or the id's case: the bare "Bob never joined" read as if Bob had not been there.
 */
export interface JoinedParticipants {
  accept(record: ChatMessage): void;
  /** The note for `--as <asked>` when it never joined; undefined when nobody joined either. */
  neverJoinedNote(asked: string, conversationId: string): string;
}

export function createJoinedParticipants(): JoinedParticipants {
  // id → display name, in order of first join
  const joined = new Map<string, string>();
  return {
    accept(record) {
      if (record.sender_type !== 'system' || record.message_type !== MESSAGE_TYPES.join) return;
      if (joined.has(record.sender_id) || joined.size >= REMEMBERED) return;
      const p = record.metadata.participant as { display_name?: unknown } | undefined;
      joined.set(record.sender_id, typeof p?.display_name === 'string' ? p.display_name : record.sender_id);
    },
    neverJoinedNote(asked, conversationId) {
      const base = `${asked} never joined conversation ${conversationId}`;
      if (joined.size === 0) return base;
      const wanted = asked.toLowerCase();
      for (const [id, name] of joined) {
        if (name === asked) return `${base}: --as takes a participant id, and "${asked}" is the display name of ${id} (--as ${id})`;
        if (id.toLowerCase() === wanted) return `${base}: ids are case-sensitive (--as ${id})`;
      }
      const ids = [...joined.keys()];
      const more = ids.length > LISTED ? `, and ${ids.length - LISTED} more` : '';
      return `${base} (participants who joined: ${ids.slice(0, LISTED).join(', ')}${more})`;
    },
  };
}
