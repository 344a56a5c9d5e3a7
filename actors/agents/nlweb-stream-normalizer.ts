/**
 * Turns NLWeb's message envelopes (both the current and the older stream style, streamed or as one
 * JSON body) into a small typed union the NLWeb agent maps to chat messages. NLWeb adds message
 * types over time, so anything unknown is counted and ignored, never fatal.
 */

/** One result item, in the shape both NLWeb styles share. */
export interface NlwebItem {
  readonly url: string;
  readonly name: string;
  readonly site?: string;
  readonly score?: number;
  readonly description?: string;
  /** schema.org object as NLWeb sent it (an object, an array or a JSON string). */
  readonly schema_object?: unknown;
}

export type NlwebNoAnswerReason = 'no_results' | 'site_is_irrelevant_to_query';

/** What one envelope means to a chat participant. `messageType` is NLWeb's own discriminator. */
export type NlwebPiece =
  | { readonly kind: 'begin'; readonly messageType: string }
  | { readonly kind: 'items'; readonly messageType: string; readonly items: readonly NlwebItem[] }
  | { readonly kind: 'summary'; readonly messageType: string; readonly text: string }
  | { readonly kind: 'answer'; readonly messageType: string; readonly text: string; readonly items: readonly NlwebItem[] }
  | { readonly kind: 'ask_user'; readonly messageType: string; readonly text: string }
  | { readonly kind: 'no_answer'; readonly messageType: string; readonly reason: NlwebNoAnswerReason; readonly text: string }
  | { readonly kind: 'info'; readonly messageType: string }
  | { readonly kind: 'error'; readonly messageType: string; readonly text: string }
  | { readonly kind: 'end'; readonly messageType: string; readonly error: boolean };

export type NlwebStreamStyle = 'current' | 'legacy';

/** Progress markers and bookkeeping NLWeb sends that carry nothing to show in a chat. */
const INFO_TYPES = new Set([
  'api_version',
  'header',
  'decontextualized_query',
  'query_rewrite',
  'tool_selection',
  'tool_routing',
  'remember',
  'intermediate_message',
  'query_analysis',
  'status',
  'conversation_created',
  'asking_sites',
  'site_querying',
  'site_complete',
  'site_error',
  'multi_site_complete',
  'results_map',
  'ensemble_result',
  'chart_result',
]);

export interface NlwebStreamNormalizer {
  /** Normalizes one parsed envelope (the JSON of one `data:` line). */
  accept(envelope: unknown): NlwebPiece[];
  /** Envelopes whose message_type this client does not know (ignored). */
  readonly unknownCount: number;
  readonly unknownTypes: readonly string[];
  /** Which style the stream turned out to be, once a style-specific envelope was seen. */
  readonly style: NlwebStreamStyle | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function firstString(...values: unknown[]): string {
  for (const v of values) if (typeof v === 'string' && v !== '') return v;
  return '';
}

function schemaField(schema: unknown, key: string): unknown {
  const obj = Array.isArray(schema) ? schema[0] : schema;
  return isRecord(obj) ? obj[key] : undefined;
}

/** Normalizes one NLWeb result item; returns undefined for entries that are no items at all. */
export function normalizeNlwebItem(raw: unknown): NlwebItem | undefined {
  if (!isRecord(raw)) return undefined;
  const schema = raw.schema_object ?? raw.details;
  const ranking = isRecord(raw.ranking) ? raw.ranking : undefined;
  const url = firstString(raw.url, schemaField(schema, 'url'));
  const name = firstString(raw.name, raw.title, schemaField(schema, 'name'), url);
  if (url === '' && name === '') return undefined;
  const description = firstString(raw.description, ranking?.description, schemaField(schema, 'description'));
  const score = typeof raw.score === 'number' ? raw.score : typeof ranking?.score === 'number' ? ranking.score : undefined;
  const site = firstString(raw.site);
  const item: { -readonly [K in keyof NlwebItem]: NlwebItem[K] } = { url, name };
  if (site !== '') item.site = site;
  if (score !== undefined) item.score = score;
  if (description !== '') item.description = description;
  if (schema !== undefined) item.schema_object = schema;
  return item;
}

function normalizeItems(raw: unknown): NlwebItem[] {
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw];
  const out: NlwebItem[] = [];
  for (const entry of list) {
    const item = normalizeNlwebItem(entry);
    if (item !== undefined) out.push(item);
  }
  return out;
}

function isSummaryEntry(entry: unknown): entry is Record<string, unknown> {
  return isRecord(entry) && entry['@type'] === 'Summary';
}

/** Creates a normalizer for one response (it tracks the style and counts unknown types). */
export function createNlwebStreamNormalizer(): NlwebStreamNormalizer {
  let unknownCount = 0;
  const unknownTypes: string[] = [];
  let style: NlwebStreamStyle | undefined;

  function unknown(type: string): NlwebPiece[] {
    unknownCount++;
    if (!unknownTypes.includes(type) && unknownTypes.length < 20) unknownTypes.push(type);
    return [];
  }

  function accept(envelope: unknown): NlwebPiece[] {
    if (!isRecord(envelope)) return unknown(typeof envelope);
    const type = envelope.message_type;
    if (typeof type !== 'string') return unknown('(none)');
    switch (type) {
      case 'begin-nlweb-response':
        style = 'current';
        return [{ kind: 'begin', messageType: type }];
      case 'api_version':
        style ??= 'legacy';
        return [{ kind: 'info', messageType: type }];
      case 'result': {
        // Current style: `content` is a list of items, and/or entries typed "Summary".
        style ??= 'current';
        const content = envelope.content;
        const entries = Array.isArray(content) ? content : content === undefined || content === null ? [] : [content];
        const out: NlwebPiece[] = [];
        const items: NlwebItem[] = [];
        for (const entry of entries) {
          if (isSummaryEntry(entry)) {
            const text = firstString(entry.text, entry.summary, entry.description, entry.content, entry.message);
            if (text !== '') out.push({ kind: 'summary', messageType: type, text });
          } else {
            const item = normalizeNlwebItem(entry);
            if (item !== undefined) items.push(item);
          }
        }
        if (items.length > 0) out.unshift({ kind: 'items', messageType: type, items });
        return out;
      }
      case 'result_batch': {
        style ??= 'legacy';
        const items = normalizeItems(envelope.results ?? envelope.content);
        return items.length > 0 ? [{ kind: 'items', messageType: type, items }] : [];
      }
      case 'summary': {
        const content = envelope.content;
        const text = firstString(
          envelope.message,
          envelope.summary,
          envelope.text,
          content,
          isRecord(content) ? content.message : undefined,
          isRecord(content) ? content.text : undefined,
        );
        return text === '' ? [] : [{ kind: 'summary', messageType: type, text }];
      }
      case 'nlws': {
        const content = isRecord(envelope.content) ? envelope.content : undefined;
        const text = firstString(envelope.answer, content?.answer, typeof envelope.content === 'string' ? envelope.content : undefined);
        const items = normalizeItems(envelope.items ?? content?.items);
        if (text === '' && items.length === 0) return [];
        return [{ kind: 'answer', messageType: type, text, items }];
      }
      case 'ask_user': {
        const text = firstString(envelope.message, envelope.question, envelope.content, envelope.text);
        return text === '' ? [] : [{ kind: 'ask_user', messageType: type, text }];
      }
      case 'no_results':
      case 'site_is_irrelevant_to_query':
        return [{ kind: 'no_answer', messageType: type, reason: type, text: firstString(envelope.message, envelope.content) }];
      case 'error':
        return [
          {
            kind: 'error',
            messageType: type,
            text: firstString(envelope.message, envelope.error, envelope.content, 'NLWeb reported an error'),
          },
        ];
      case 'end-nlweb-response':
        return [{ kind: 'end', messageType: type, error: envelope.error === true }];
      case 'complete':
        return [{ kind: 'end', messageType: type, error: false }];
      default:
        return INFO_TYPES.has(type) ? [{ kind: 'info', messageType: type }] : unknown(type);
    }
  }

  return {
    accept,
    get unknownCount() {
      return unknownCount;
    },
    get unknownTypes() {
      return unknownTypes;
    },
    get style() {
      return style;
    },
  };
}

/**
 * Normalizes a non-streaming (`streaming=false`) JSON body: current servers send an array of
 * envelopes, older ones an object keyed by message_type (`results` holding the flattened batches).
 * The returned list always ends with an `end` piece, because a JSON body is complete by definition.
 */
export function normalizeNlwebJson(body: unknown, normalizer: NlwebStreamNormalizer = createNlwebStreamNormalizer()): NlwebPiece[] {
  const out: NlwebPiece[] = [];
  let envelopes: unknown[];
  if (Array.isArray(body)) {
    envelopes = body;
  } else if (isRecord(body) && Array.isArray(body.messages)) {
    envelopes = body.messages;
  } else if (isRecord(body)) {
    envelopes = [];
    if (Array.isArray(body.results)) envelopes.push({ message_type: 'result_batch', results: body.results });
    if (Array.isArray(body.content) && !('message_type' in body)) envelopes.push({ message_type: 'result', content: body.content });
    for (const [key, value] of Object.entries(body)) {
      if (key === 'results' || key === 'content' || key === 'query_id' || key === '_meta') continue;
      if (isRecord(value)) envelopes.push({ ...value, message_type: key });
    }
  } else {
    envelopes = [];
  }
  let ended = false;
  for (const env of envelopes) {
    for (const piece of normalizer.accept(env)) {
      if (piece.kind === 'end') ended = true;
      out.push(piece);
    }
  }
  if (!ended) out.push({ kind: 'end', messageType: 'complete', error: false });
  return out;
}
