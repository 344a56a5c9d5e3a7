import type { StandinBehaviour, StandinStyle } from './nlweb-standin-server';
import { matchStandinItems, noResultsMessage } from './standin-items';
import type { StandinItem } from './standin-items';

/**
 * What the NLWeb stand-in answers, as data: the envelopes of each step and when to send them
 * (nlweb-standin-server.ts sends them over SSE or as one JSON body). Pure, so the shapes of every style and
 * behaviour are decided in one place, apart from the sockets and timers.
 */

export type Envelope = Record<string, unknown>;

/** What an answer depends on besides the request. */
export interface StandinScriptOptions {
  readonly style: StandinStyle;
  readonly behaviour: StandinBehaviour;
  readonly latencyMs: number;
  readonly batches: number;
  readonly items: readonly StandinItem[];
  readonly endDelayMs: number;
}

/** One step of a scripted answer: send these envelopes (or raw text) at `atMs` after the request. */
export interface Step {
  readonly atMs: number;
  readonly envelopes?: readonly Envelope[];
  readonly raw?: string;
  /** 'end' finishes the response; 'destroy' kills the socket; 'hang' leaves it open. */
  readonly then?: 'end' | 'destroy' | 'hang';
}

function asItemEnvelope(item: StandinItem, score: number): Envelope {
  return {
    '@type': 'Item',
    url: item.url,
    name: item.name,
    site: item.site,
    score,
    description: item.description,
    schema_object: item.schema_object,
  };
}

function asLegacyResult(item: StandinItem, score: number): Envelope {
  return { url: item.url, name: item.name, site: item.site, score, description: item.description, schema_object: [item.schema_object] };
}

/** The envelopes of an answer (by the behaviour set now), with their send times after the request. */
export function answerScript(params: Readonly<Record<string, string>>, o: StandinScriptOptions): Step[] {
  const { style, behaviour, latencyMs, batches, items, endDelayMs } = o;
  const query = params.query ?? '';
  const mode = params.mode ?? (params.generate_mode === 'none' ? 'list' : params.generate_mode) ?? 'list';
  const conversationId = params.conversation_id ?? '';
  const queryId = params.query_id ?? '';
  const stamp = (e: Envelope): Envelope => ({ ...e, conversation_id: conversationId, query_id: queryId });
  const begin: Envelope[] =
    style === 'current'
      ? [stamp({ message_type: 'begin-nlweb-response', query })]
      : [stamp({ message_type: 'api_version', api_version: '0.1' })];
  const end: Envelope = style === 'current' ? stamp({ message_type: 'end-nlweb-response' }) : stamp({ message_type: 'complete' });
  const endError: Envelope =
    style === 'current' ? stamp({ message_type: 'end-nlweb-response', error: true }) : stamp({ message_type: 'complete' });

  switch (behaviour) {
    case 'no-results':
      return [
        { atMs: 0, envelopes: begin },
        {
          atMs: latencyMs,
          envelopes: [stamp({ message_type: 'no_results', message: `No results were found for "${query}".` }), end],
          then: 'end',
        },
      ];
    case 'irrelevant':
      return [
        { atMs: 0, envelopes: begin },
        {
          atMs: latencyMs,
          envelopes: [stamp({ message_type: 'site_is_irrelevant_to_query', message: 'This site cannot answer that question.' }), end],
          then: 'end',
        },
      ];
    case 'malformed':
      return [
        { atMs: 0, envelopes: begin },
        { atMs: latencyMs, raw: 'data: {"message_type": "result", "content": [\n\n', envelopes: [end], then: 'end' },
      ];
    case 'hang':
      return [{ atMs: 0, envelopes: begin, then: 'hang' }];
    case 'nlweb-error':
      return [
        { atMs: 0, envelopes: begin },
        { atMs: latencyMs, envelopes: [stamp({ message_type: 'error', message: 'ranking backend failed' }), endError], then: 'end' },
      ];
    default:
      break;
  }

  const matches = matchStandinItems(query, items);
  if (matches.length === 0) {
    // Same shape as NLWeb's no_results (the agent reads only its type); the message says what the stand-in knows.
    return [
      { atMs: 0, envelopes: begin },
      {
        atMs: latencyMs,
        envelopes: [stamp({ message_type: 'no_results', message: noResultsMessage(query, items) }), end],
        then: 'end',
      },
    ];
  }
  const steps: Step[] = [];
  const first: Envelope[] = [...begin];
  let prevList: unknown = [];
  try {
    prevList = JSON.parse(params.prev ?? '[]');
  } catch {
    prevList = [];
  }
  if (Array.isArray(prevList) && prevList.length > 0) {
    first.push(stamp({ message_type: 'decontextualized_query', decontextualized_query: `${prevList.join(' ')} ${query}`.trim() }));
  }
  if (behaviour === 'unknown-types') {
    first.push(
      stamp({ message_type: 'future_feature_x', payload: { anything: true } }),
      stamp({ message_type: 'tool_selection', selected_tool: 'search' }),
    );
  }
  steps.push({ atMs: 0, envelopes: first });

  const names = matches.map((m) => m.item.name);
  const listed = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  if (mode === 'generate') {
    const top = matches[0]!;
    const answer = `For "${query}", ${top.item.name} fits best: ${top.item.description}`;
    const nlwsItems = matches
      .slice(0, 3)
      .map((m) => (style === 'current' ? asItemEnvelope(m.item, m.score) : asLegacyResult(m.item, m.score)));
    steps.push({
      atMs: latencyMs,
      envelopes: [stamp({ message_type: 'nlws', '@type': 'GeneratedAnswer', answer, items: nlwsItems }), end],
      then: 'end',
    });
    return steps;
  }
  for (let b = 0; b < batches; b++) {
    // Spread evenly, so every batch carries items whenever there are at least as many items as batches.
    const slice = matches.slice(Math.floor((b * matches.length) / batches), Math.floor(((b + 1) * matches.length) / batches));
    const envelopes: Envelope[] = [];
    if (slice.length > 0) {
      envelopes.push(
        style === 'current'
          ? stamp({ message_type: 'result', content: slice.map((m) => asItemEnvelope(m.item, m.score)) })
          : stamp({ message_type: 'result_batch', results: slice.map((m) => asLegacyResult(m.item, m.score)) }),
      );
    }
    const last = b === batches - 1;
    if (last && mode === 'summarize') {
      const text = `Found ${matches.length} item${matches.length === 1 ? '' : 's'} for "${query}": ${listed}.`;
      envelopes.push(
        style === 'current'
          ? stamp({ message_type: 'result', content: [{ '@type': 'Summary', text }] })
          : stamp({ message_type: 'summary', message: text }),
      );
    }
    if (behaviour === 'unknown-types' && last) envelopes.push(stamp({ message_type: 'another_unknown_type' }));
    const endApart = last && endDelayMs > 0;
    if (last && !endApart) envelopes.push(end);
    const atMs = (latencyMs * (b + 1)) / batches;
    if (behaviour === 'close-mid-stream' && last) {
      // The connection dies where the last batch and the end marker should have been.
      steps.push({ atMs, then: 'destroy' });
      return steps;
    }
    steps.push({ atMs, envelopes, then: last && !endApart ? 'end' : undefined });
    if (endApart) steps.push({ atMs: atMs + endDelayMs, envelopes: [end], then: 'end' });
  }
  return steps;
}

export function jsonAnswer(steps: readonly Step[], style: StandinStyle): unknown {
  const envelopes = steps
    .flatMap((s) => s.envelopes ?? [])
    .filter((e) => !['begin-nlweb-response', 'end-nlweb-response', 'complete', 'api_version'].includes(String(e.message_type)));
  if (style === 'current') return envelopes;
  // Older servers answer with an object keyed by message_type; batches are flattened into `results`.
  const out: Record<string, unknown> = {};
  for (const e of envelopes) {
    const { message_type: type, ...rest } = e;
    if (type === 'result_batch') out.results = [...((out.results as unknown[] | undefined) ?? []), ...(rest.results as unknown[])];
    else out[String(type)] = rest;
  }
  out.query_id = envelopes[0]?.query_id ?? '';
  return out;
}
