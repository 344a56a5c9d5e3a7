import * as http from 'node:http';
import * as https from 'node:https';
import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { ChatError, isChatError } from '../errors';
import { MESSAGE_TYPES } from '../message-types';
import type { ChatMessage } from '../message-types';
import { cleanNoAnswerMessage, noAnswerText, type Agent, type AgentNoAnswer, type AgentOutput, type AgentTurn } from './agent';
import { buildNlwebAskParams, encodeNlwebAskParams } from './nlweb-ask-request';
import type { NlwebMode } from './nlweb-ask-request';
import { startNlwebAskCall } from './nlweb-ask-call';
import type { NlwebAskCall } from './nlweb-ask-call';
import { parseNlwebJson, readSseEvents, toAnswer } from './nlweb-answer-pieces';
import type { AnswerPiece } from './nlweb-answer-pieces';
import { createSseParser } from './nlweb-sse-parser';
import { createNlwebStreamNormalizer, normalizeNlwebJson } from './nlweb-stream-normalizer';
import type { NlwebItem, NlwebPiece } from './nlweb-stream-normalizer';

export interface NlwebAgentOptions {
  /** Agent id (the endpoint id from config); also the AI participant id by default. */
  readonly id: string;
  readonly displayName?: string;
  /** Base URL of the NLWeb server; `/ask` is appended to its path. */
  readonly baseUrl: string;
  /** Default site(s); a conversation's `settings.site` overrides it. Default 'all'. */
  readonly site?: string | readonly string[];
  /** Default mode; a conversation's `settings.nlweb_mode` overrides it. Default 'list'. */
  readonly mode?: NlwebMode;
  /** Ask for SSE (default true) or one JSON body. */
  readonly streaming?: boolean;
  /** Bound on one whole /ask call, first byte to last (chat.context.nlweb_timeout × 1000). Default 20000. */
  readonly timeoutMs?: number;
  /** When NLWeb has no answer: post nothing (default) or one short note. */
  readonly onNoAnswer?: 'silent' | 'note';
  /** Also answer AI participants' messages (agent-to-agent; the runtime bounds the chain). Default false. */
  readonly answerAiMessages?: boolean;
  /** Use this connection pool instead of a private keep-alive agent (it is then not destroyed by close()). */
  readonly httpAgent?: http.Agent;
  /** Most parallel sockets to the endpoint. Default 64. */
  readonly maxSockets?: number;
}

/** An Agent backed by one NLWeb endpoint; close() destroys its keep-alive sockets. */
export interface NlwebAgent extends Agent {
  readonly baseUrl: string;
  close(): void;
}

const ANSWERABLE_TYPES = new Set<string>([MESSAGE_TYPES.text, MESSAGE_TYPES.nlwebResponse]);

/**
 * Creates an NLWeb participant: for every message it is offered it calls `POST {baseUrl}/ask`
 * with the turn's context and streams each piece of the answer back as an `nlweb_response`.
 * Failures are thrown as coded ChatErrors (timeout, connection, HTTP status, malformed stream);
 * an aborted signal destroys the HTTP request at once and ends the answer silently.
 */
export function createNlwebAgent(options: NlwebAgentOptions): NlwebAgent {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new ChatError('CONFIG_ERR_INVALID', `NLWeb endpoint ${options.id}: url must be http(s), got ${options.baseUrl}`);
  }
  const askPath = `${base.pathname.replace(/\/+$/, '')}/ask`;
  const hostname = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const port = base.port === '' ? (base.protocol === 'https:' ? 443 : 80) : Number(base.port);
  const displayName = options.displayName ?? options.id;
  const site = options.site ?? 'all';
  const mode = options.mode ?? 'list';
  const streaming = options.streaming ?? true;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const onNoAnswer = options.onNoAnswer ?? 'silent';
  const answerAi = options.answerAiMessages ?? false;
  const ownsAgent = options.httpAgent === undefined;
  // One keep-alive pool per endpoint, so a chat turn pays no TCP handshake (the /ask parity goal).
  const pool: http.Agent =
    options.httpAgent ??
    (base.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 })
      : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 }));
  const tracer = trace.getTracer('nlweb-chat');

  function wantsTurn(message: ChatMessage): boolean {
    if (!ANSWERABLE_TYPES.has(message.message_type) || message.content.trim() === '') return false;
    if (message.sender_type === 'human') return true;
    return answerAi && message.sender_type === 'ai';
  }

  async function* respond(turn: AgentTurn, signal: AbortSignal): AsyncGenerator<AgentOutput, AgentNoAnswer | undefined> {
    if (signal.aborted) return;
    const trigger = turn.trigger;
    const params = buildNlwebAskParams(turn, { site, mode, streaming, endpointId: options.id });
    const encoded = encodeNlwebAskParams(params);
    const target = { protocol: base.protocol as 'http:' | 'https:', hostname, port, path: `${askPath}?${encoded.search}` };

    const span: Span = tracer.startSpan('nlweb.ask', {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST',
        'server.address': base.hostname,
        'nlweb.endpoint': options.id,
        'nlweb.mode': params.mode,
        'nlweb.streaming': streaming,
        'chat.conversation_id': turn.conversationId,
      },
    });
    const headers: Record<string, string> = { accept: streaming ? 'text/event-stream' : 'application/json' };
    propagation.inject(trace.setSpan(context.active(), span), headers);

    let part = 0;
    let useful = 0;
    const metadataFor = (
      nlwebType: string,
      items: readonly NlwebItem[],
      complete: boolean,
      extra?: Record<string, unknown>,
    ): Record<string, unknown> => ({
      in_reply_to: trigger.message_id,
      in_reply_to_sequence: trigger.sequence_id,
      nlweb_message_type: nlwebType,
      items,
      part: ++part,
      complete,
      endpoint: options.id,
      ...extra,
    });
    const output = (answer: AnswerPiece, final: boolean): AgentOutput => ({
      content: answer.content,
      message_type: MESSAGE_TYPES.nlwebResponse,
      metadata: metadataFor(answer.nlwebType, answer.items, final),
      final,
    });

    let call: NlwebAskCall | undefined;
    try {
      call = startNlwebAskCall({ target, method: 'POST', headers, body: encoded.body, agent: pool, timeoutMs, signal });
      let head: { status: number; contentType: string };
      try {
        head = await call.response;
      } catch (err) {
        if (call.cancelled) return;
        throw err;
      }
      span.setAttribute('http.response.status_code', head.status);
      if (head.status < 200 || head.status > 299) {
        // Read the (small) error body so the socket can be reused; the timeout still bounds it.
        let body = '';
        for (let t = await call.next(); t !== null; t = await call.next()) if (body.length < 500) body += t;
        throw new ChatError('AGENT_ERR_HTTP', `NLWeb answered HTTP ${head.status}`, {
          details: { status: head.status, body: body.slice(0, 500) },
        });
      }

      const normalizer = createNlwebStreamNormalizer();
      let noAnswer: string | undefined;
      /** NLWeb's `message` with its no-answer type (the stand-in's says what to try): kept for the job's end record. */
      let noAnswerMessage: string | undefined;
      let errorText: string | undefined;
      let endPiece: Extract<NlwebPiece, { kind: 'end' }> | undefined;

      if (!head.contentType.includes('text/event-stream')) {
        // Non-streaming: one JSON body (also what a server that ignores streaming=true sends).
        let text = '';
        for (let t = await call.next(); t !== null; t = await call.next()) text += t;
        if (call.cancelled) return;
        let body: unknown;
        try {
          body = parseNlwebJson(text);
        } catch (err) {
          throw new ChatError('AGENT_ERR_MALFORMED_STREAM', 'NLWeb sent a body that is not JSON', { cause: err });
        }
        const answers: AnswerPiece[] = [];
        for (const piece of normalizeNlwebJson(body, normalizer)) {
          const answer = toAnswer(piece);
          if (answer !== undefined) answers.push(answer);
          else if (piece.kind === 'no_answer' && noAnswer === undefined) [noAnswer, noAnswerMessage] = [piece.messageType, piece.text];
          else if (piece.kind === 'error') errorText ??= piece.text;
          else if (piece.kind === 'end') endPiece = piece;
        }
        call.release();
        if (endPiece?.error === true || (errorText !== undefined && answers.length === 0)) {
          throw new ChatError('AGENT_ERR_FAILED', `NLWeb reported an error: ${errorText ?? 'end-nlweb-response error'}`);
        }
        for (let i = 0; i < answers.length; i++) {
          useful++;
          yield output(answers[i]!, i === answers.length - 1);
        }
      } else {
        const parser = createSseParser();
        let endedWithPiece = false;
        while (endPiece === undefined) {
          const text = await call.next();
          if (call.cancelled) return;
          const read = readSseEvents(text === null ? parser.end() : parser.push(text), normalizer);
          if (noAnswer === undefined) [noAnswer, noAnswerMessage] = [read.noAnswer, read.noAnswerMessage];
          errorText ??= read.errorText;
          endPiece = read.end;
          // NLWeb's end message came in the same read as the last piece: that piece is the answer's last, so it
          // says so itself (one record, one frame and one machine step fewer than a separate completion marker).
          const endsHere = endPiece !== undefined && !endPiece.error && read.malformed === undefined;
          for (let i = 0; i < read.answers.length; i++) {
            const final = endsHere && i === read.answers.length - 1;
            useful++;
            endedWithPiece = final;
            yield output(read.answers[i]!, final);
            if (signal.aborted) return;
          }
          if (read.malformed !== undefined) throw read.malformed;
          if (text === null && endPiece === undefined) {
            throw new ChatError('AGENT_ERR_MALFORMED_STREAM', 'NLWeb stream closed before end-nlweb-response');
          }
        }
        call.release();
        if (endPiece.error || (errorText !== undefined && useful === 0)) {
          throw new ChatError('AGENT_ERR_FAILED', `NLWeb reported an error: ${errorText ?? 'end-nlweb-response error'}`);
        }
        if (useful > 0 && !endedWithPiece) {
          // The last useful piece went out before the end marker arrived: a completion marker ends the answer.
          yield {
            content: '',
            message_type: MESSAGE_TYPES.nlwebResponse,
            metadata: metadataFor(endPiece.messageType, [], true),
            final: true,
          };
        }
      }
      span.setAttribute('nlweb.unknown_message_types', normalizer.unknownCount);
      span.setAttribute('nlweb.pieces', useful);
      const reason = noAnswer ?? 'empty';
      const reasonText = cleanNoAnswerMessage(noAnswerMessage);
      if (useful === 0 && onNoAnswer === 'note') {
        yield {
          content: noAnswerText(displayName, reason),
          message_type: MESSAGE_TYPES.nlwebResponse,
          metadata: metadataFor(reason, [], true, { no_answer: reason, ...(reasonText === undefined ? {} : { reason_text: reasonText }) }),
          final: true,
        };
      }
      span.setStatus({ code: SpanStatusCode.OK });
      // Only reached when the consumer pulls past the final piece: wait for the body's last bytes so
      // the socket is back in the keep-alive pool before the next turn asks for one.
      await call.whenDone();
      // Silent: no message, but the runtime's record that ends the job says why (agent_job_finished).
      if (useful === 0 && onNoAnswer === 'silent')
        return { noAnswer: reason, ...(reasonText === undefined ? {} : { message: reasonText }) };
      return undefined;
    } catch (err) {
      const error = isChatError(err)
        ? err
        : new ChatError('AGENT_ERR_FAILED', err instanceof Error ? err.message : String(err), { cause: err });
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
      throw error;
    } finally {
      call?.dispose();
      span.end();
    }
  }

  return {
    id: options.id,
    displayName,
    baseUrl: base.href,
    wantsTurn,
    respond,
    close(): void {
      if (ownsAgent) pool.destroy();
    },
  };
}
