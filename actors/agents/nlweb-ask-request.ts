import type { AgentTurn } from './agent';

export type NlwebMode = 'list' | 'summarize' | 'generate';

/** Endpoint defaults; the conversation's settings (site, nlweb_mode) override them per turn. */
export interface NlwebAskDefaults {
  readonly site: string | readonly string[];
  readonly mode: NlwebMode;
  readonly streaming: boolean;
  /** Used in query_id so two endpoints answering one message send different ids. */
  readonly endpointId: string;
}

/** One `{title, url}` entry of `last_ans`, as NLWeb reads it. */
export interface NlwebLastAnswer {
  readonly title: string;
  readonly url: string;
}

/**
 * The /ask parameters for one turn, as strings (NLWeb reads every parameter as a string and parses
 * `prev`/`last_ans` as JSON arrays).
 */
export interface NlwebAskParams {
  readonly query: string;
  readonly site: string;
  readonly prev: string;
  readonly last_ans: string;
  readonly mode: NlwebMode;
  /** Older servers read generate_mode ('none' | 'summarize' | 'generate') instead of mode. */
  readonly generate_mode: string;
  readonly streaming: 'true' | 'false';
  readonly conversation_id: string;
  readonly query_id: string;
  readonly user_id?: string;
  readonly user_name?: string;
}

/** Most `last_ans` entries sent; NLWeb only uses them to resolve references like "the second one". */
const LAST_ANSWER_LIMIT = 20;

/**
 * URL-encoded query strings longer than this move `prev` and `last_ans` into a form body:
 * aiohttp (NLWeb's server) rejects request lines over 8190 bytes, and current NLWeb merges a
 * form body of a POST into the query parameters.
 */
export const MAX_QUERY_STRING_CHARS = 6000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `last_ans` entries from the items the previous AI answer carried in its metadata. */
export function lastAnswersFromTurn(turn: AgentTurn): NlwebLastAnswer[] {
  const out: NlwebLastAnswer[] = [];
  const seen = new Set<string>();
  for (const message of turn.lastAiAnswer) {
    const items = message.metadata.items;
    if (!Array.isArray(items)) continue;
    for (const item of items) {
      if (!isRecord(item)) continue;
      const url = typeof item.url === 'string' ? item.url : '';
      const title = typeof item.name === 'string' ? item.name : typeof item.title === 'string' ? item.title : '';
      if ((url === '' && title === '') || seen.has(url + '\n' + title)) continue;
      seen.add(url + '\n' + title);
      out.push({ title, url });
      if (out.length >= LAST_ANSWER_LIMIT) return out;
    }
  }
  return out;
}

/** Builds the /ask parameters for a turn: the query, its context window and who is asking. */
export function buildNlwebAskParams(turn: AgentTurn, defaults: NlwebAskDefaults): NlwebAskParams {
  const burstIds = new Set(turn.burst.map((m) => m.message_id));
  const prev = turn.recentHumanMessages.filter((m) => !burstIds.has(m.message_id)).map((m) => m.content);
  const siteSetting = turn.settings.site ?? defaults.site;
  const site = typeof siteSetting === 'string' ? siteSetting : siteSetting.join(',');
  const mode = turn.settings.nlweb_mode ?? defaults.mode;
  const params: { -readonly [K in keyof NlwebAskParams]: NlwebAskParams[K] } = {
    query: turn.burst.length > 0 ? turn.burst.map((m) => m.content).join('\n') : turn.trigger.content,
    site: site === '' ? 'all' : site,
    prev: JSON.stringify(prev),
    last_ans: JSON.stringify(lastAnswersFromTurn(turn)),
    mode,
    generate_mode: mode === 'list' ? 'none' : mode,
    streaming: defaults.streaming ? 'true' : 'false',
    conversation_id: turn.conversationId,
    query_id: `${turn.trigger.message_id}.${defaults.endpointId}`,
  };
  if (turn.sender !== undefined) {
    params.user_id = turn.sender.participant_id;
    params.user_name = turn.sender.display_name;
  }
  return params;
}

/** The request target and (only when the context is large) a form body carrying prev/last_ans. */
export interface NlwebAskEncoding {
  /** `/ask?...` relative to the endpoint's base path. */
  readonly search: string;
  /** application/x-www-form-urlencoded body, or undefined for an empty POST. */
  readonly body?: string;
}

/**
 * Parameters that move into the form body, in this order, while the query string is too long: the context
 * first (it is only context), then the query itself. A busy room's burst (10 s of a hundred people) or one long
 * non-ASCII message is tens of KB URL-encoded: left in the URL it was refused (Node 431, aiohttp 400) and the
 * agent failed every such turn.
 */
const BODY_FIRST: readonly (keyof NlwebAskParams)[] = ['prev', 'last_ans', 'query', 'user_name'];

/**
 * Encodes the parameters the way NLWeb's own clients do: in the query string (every NLWeb version
 * reads it, for GET and POST). Only what does not fit goes into a form body.
 */
export function encodeNlwebAskParams(params: NlwebAskParams, maxQueryChars = MAX_QUERY_STRING_CHARS): NlwebAskEncoding {
  const all = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) all.set(key, value);
  // Serialised once on the common path (everything fits); again only after a parameter moved out.
  let search = all.toString();
  const body = new URLSearchParams();
  for (const key of BODY_FIRST) {
    if (search.length <= maxQueryChars) break;
    const value = params[key];
    if (value === undefined) continue;
    body.set(key, value);
    all.delete(key);
    search = all.toString();
  }
  return body.size === 0 ? { search } : { search, body: body.toString() };
}
