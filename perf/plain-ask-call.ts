/**
 * A plain NLWeb client call, shared by the primary-path benchmark's direct client (a) and its minimal
 * relay (c), so both ask exactly what the agent asks and read the stream the same way: POST /ask on the
 * given keep-alive pool, the parameters the agent sends, each SSE event's JSON handed to `onMessage`.
 */
import * as http from 'node:http';
import { createSseParser } from '../actors/agents/nlweb-sse-parser';

export interface PlainAsk {
  readonly query: string;
  /** Earlier queries, sent as `prev`. */
  readonly prev: readonly string[];
  readonly conversationId: string;
  readonly queryId: string;
  readonly userId: string;
}

export interface NlwebEnvelope {
  readonly message_type?: string;
  readonly content?: unknown;
}

export function postPlainAsk(
  pool: http.Agent,
  nlwebUrl: string,
  ask: PlainAsk,
  onMessage: (message: NlwebEnvelope) => void,
  onError: (err: Error) => void,
): void {
  const params = new URLSearchParams({
    query: ask.query,
    site: 'all',
    prev: JSON.stringify(ask.prev),
    last_ans: '[]',
    mode: 'list',
    generate_mode: 'none',
    streaming: 'true',
    conversation_id: ask.conversationId,
    query_id: ask.queryId,
    user_id: ask.userId,
    user_name: ask.userId,
  });
  const parser = createSseParser();
  const req = http.request(
    `${nlwebUrl}/ask?${params}`,
    { method: 'POST', agent: pool, headers: { accept: 'text/event-stream', 'content-length': '0' } },
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const event of parser.push(chunk)) onMessage(JSON.parse(event.data) as NlwebEnvelope);
      });
      res.on('error', onError);
    },
  );
  req.setNoDelay(true);
  req.on('error', onError);
  req.end();
}
