import { InvalidArgumentError } from 'commander';
import { MESSAGE_TYPES, type ChatMessage } from '../../actors/message-types';

/** The system records about one participant whose `sender_id` is `system`: the key of metadata naming them. */
const ABOUT: Readonly<Record<string, string>> = {
  [MESSAGE_TYPES.agentJobStarted]: 'participant_id',
  [MESSAGE_TYPES.agentJobFinished]: 'participant_id',
  [MESSAGE_TYPES.agentJobFailed]: 'participant_id',
  [MESSAGE_TYPES.agentJobCancelled]: 'participant_id',
  [MESSAGE_TYPES.edit]: 'sender_id',
  redaction: 'requested_by',
};

/**
 * `--sender alice,nlweb`: the timeline of some participants only, e.g. how alice's post and the AI's answer came
 * between bob's records (`--as bob --sender alice,nlweb`), which in a busy conversation were a few lines among
 * thousands. A participant's records are the ones they sent (their join and leave records included), and the
 * system records about them: an agent's job records, the edit records of their messages, the redactions they asked
 * for. Only what is shown is filtered: every record is still read (membership for --as, job triggers).
 */
export interface SenderFilter {
  shows(record: ChatMessage): boolean;
}

export function createSenderFilter(ids: readonly string[]): SenderFilter {
  const wanted = new Set(ids);
  return {
    shows(record) {
      if (wanted.has(record.sender_id)) return true;
      if (record.sender_type !== 'system') return false;
      const key = ABOUT[record.message_type];
      const about = key === undefined ? undefined : record.metadata[key];
      return typeof about === 'string' && wanted.has(about);
    },
  };
}

/** `--sender a,b --sender c`: the ids, each 1 or more characters, commas and repeats both allowed. */
export function parseSenderIds(value: string, previous: readonly string[] = []): string[] {
  const ids = value.split(',').map((s) => s.trim());
  if (ids.some((s) => s.length === 0)) throw new InvalidArgumentError('takes participant ids separated by commas, none empty');
  return [...previous, ...ids];
}
