import { ChatError } from '../errors';
import { withoutForbiddenControl } from '../input-rules';
import { toWellFormed } from '../../storage-providers/record-rules';
import type { SseEvent } from './nlweb-sse-parser';
import type { NlwebItem, NlwebPiece, NlwebStreamNormalizer } from './nlweb-stream-normalizer';

/** A piece that becomes a visible chat message, before numbering. */
export interface AnswerPiece {
  readonly content: string;
  readonly nlwebType: string;
  readonly items: readonly NlwebItem[];
}

/** What a content line says about an item: name, a short description and the link. */
function formatItems(items: readonly NlwebItem[]): string {
  return items
    .map((item) => {
      const description =
        item.description === undefined
          ? ''
          : ` - ${item.description.length > 240 ? `${item.description.slice(0, 237)}...` : item.description}`;
      const link = item.url === '' ? '' : ` <${item.url}>`;
      return `${item.name}${description}${link}`;
    })
    .join('\n');
}

/**
 * JSON.parse of what NLWeb sent, with its strings made storable: NUL characters (`\u0000`) taken out and lone
 * surrogates (a `\ud800` escape without its pair) made U+FFFD. The items go into the answer's metadata, which
 * PostgreSQL's jsonb cannot store with either, and the job refuses such a piece (agent-output-rules.ts): one stray
 * escape in a scraped description must not cost the answer. The reviver is paid only by a text with a `\u` escape
 * of either kind (JSON text cannot carry them raw).
 */
export function parseNlwebJson(text: string): unknown {
  if (!text.includes('\\u0000') && !/\\u[dD][89a-fA-F]/.test(text)) return JSON.parse(text);
  return JSON.parse(text, (_key, value: unknown) =>
    // With the u flag a pair is one code point outside the range: only lone surrogates are replaced.
    typeof value === 'string' ? toWellFormed(value.replace(/\u0000/g, '')) : value,
  );
}

/**
 * The visible part of a normalised piece, or undefined for pieces nobody sees (no answer, errors, the end).
 * Control characters the content rule refuses (scraped descriptions carry the odd vertical tab or NUL) are
 * taken out: the job refuses a piece with them (agent-output-rules.ts), and one stray byte must not cost the answer.
 */
export function toAnswer(piece: NlwebPiece): AnswerPiece | undefined {
  const answer = visiblePart(piece);
  if (answer === undefined) return undefined;
  const content = withoutForbiddenControl(answer.content);
  // A copy only for the rare piece that had one: this runs for every piece of every answer.
  return content === answer.content ? answer : { ...answer, content };
}

function visiblePart(piece: NlwebPiece): AnswerPiece | undefined {
  switch (piece.kind) {
    case 'items':
      return { content: formatItems(piece.items), nlwebType: piece.messageType, items: piece.items };
    case 'summary':
    case 'ask_user':
      return { content: piece.text, nlwebType: piece.messageType, items: [] };
    case 'answer': {
      const list = formatItems(piece.items);
      return {
        content: piece.text === '' ? list : list === '' ? piece.text : `${piece.text}\n${list}`,
        nlwebType: piece.messageType,
        items: piece.items,
      };
    }
    default:
      return undefined;
  }
}

/** What one read of an SSE stream said, up to and including its end message. */
export interface SseRead {
  readonly answers: readonly AnswerPiece[];
  /** NLWeb's end message, if it was in this read (events after it are ignored). */
  readonly end?: Extract<NlwebPiece, { kind: 'end' }>;
  /** The first no-answer type and error text seen in this read. */
  readonly noAnswer?: string;
  /** What that no-answer message said (its `message`), when it said anything. */
  readonly noAnswerMessage?: string;
  readonly errorText?: string;
  /** An event whose data is not JSON; the answers before it still count. */
  readonly malformed?: ChatError;
}

/**
 * Parses the events of one read before any is yielded, so the agent knows whether the end message came with
 * the last piece. The pieces of a read arrive together anyway: holding them for the rest of it costs nothing.
 */
export function readSseEvents(events: readonly SseEvent[], normalizer: NlwebStreamNormalizer): SseRead {
  const answers: AnswerPiece[] = [];
  let noAnswer: string | undefined;
  let noAnswerMessage: string | undefined;
  let errorText: string | undefined;
  for (const event of events) {
    let envelope: unknown;
    try {
      envelope = parseNlwebJson(event.data);
    } catch (err) {
      const malformed = new ChatError('AGENT_ERR_MALFORMED_STREAM', 'NLWeb sent an event whose data is not JSON', {
        cause: err,
        details: { data: event.data.slice(0, 200) },
      });
      return { answers, noAnswer, noAnswerMessage, errorText, malformed };
    }
    for (const piece of normalizer.accept(envelope)) {
      const answer = toAnswer(piece);
      if (answer !== undefined) answers.push(answer);
      else if (piece.kind === 'no_answer' && noAnswer === undefined)
        [noAnswer, noAnswerMessage] = [piece.messageType, piece.text || undefined];
      else if (piece.kind === 'error') errorText ??= piece.text;
      else if (piece.kind === 'end') return { answers, end: piece, noAnswer, noAnswerMessage, errorText };
    }
  }
  return { answers, noAnswer, noAnswerMessage, errorText };
}
