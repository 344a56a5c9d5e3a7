import { propagation, trace, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createManualClock } from '../../actors/clock';
import type { ManualClock } from '../../actors/clock';
import type { AgentOutput, AgentTurn } from '../../actors/agents/agent';
import type { NlwebStandinServer } from '../../testing/nlweb-standin-server';
import { MAX_QUERY_STRING_CHARS, buildNlwebAskParams, encodeNlwebAskParams } from '../../actors/agents/nlweb-ask-request';
import { collect, createHarness } from './standin-harness';
import { message, turn } from './turn-fixtures';

const h = createHarness();
afterEach(() => h.closeAll());

/**
 * Runs an answer whose end message the stand-in (on `clock`, batches every 100 ms) sends 50 ms after its last
 * batch, advancing the clock only once the agent has yielded every one of the `batches` pieces: the end then
 * always arrives in a read of its own, however slow the machine.
 */
async function endApartFromLastPiece(
  server: NlwebStandinServer,
  clock: ManualClock,
  t: AgentTurn,
  batches: number,
): Promise<AgentOutput[]> {
  const answer = h.agent(server).respond(t, new AbortController().signal)[Symbol.asyncIterator]();
  const out: AgentOutput[] = [];
  for (let i = 0; i < batches; i++) {
    const next = answer.next(); // the first one also sends the request
    if (i === 0) await server.waitForRequest(0);
    clock.advance(100);
    out.push((await next).value as AgentOutput);
  }
  for (let next = answer.next(); ; next = answer.next()) {
    clock.advance(50);
    const r = await next;
    if (r.done === true) return out;
    out.push(r.value);
  }
}

describe('NLWeb agent against the stand-in: stream shapes', () => {
  it('streams a current-style list answer in several batches, then a completion marker when the end comes on its own', async () => {
    const clock = createManualClock();
    const server = await h.standin({ style: 'current', batches: 3, latencyMs: 300, endDelayMs: 50, clock });
    const out = await endApartFromLastPiece(server, clock, turn('vegetarian dinner ideas'), 3);
    const pieces = out.slice(0, -1);
    const marker = out[out.length - 1]!;
    expect(pieces.length).toBe(3);
    for (const [i, p] of pieces.entries()) {
      expect(p.final).toBe(false);
      expect(p.message_type).toBe('nlweb_response');
      expect(p.metadata).toMatchObject({
        in_reply_to: 'trigger-1',
        in_reply_to_sequence: 42,
        nlweb_message_type: 'result',
        part: i + 1,
        complete: false,
        endpoint: 'nlweb',
      });
    }
    const items = pieces.flatMap((p) => p.metadata!.items as { name: string; url: string }[]);
    expect(items.map((i) => i.name)).toEqual(expect.arrayContaining(['Spicy Vegetarian Chili', 'Lemon Garlic Pasta']));
    expect(pieces[0]!.content).toContain(items[0]!.name);
    expect(pieces[0]!.content).toContain(items[0]!.url);
    expect(marker).toMatchObject({
      content: '',
      final: true,
      metadata: { complete: true, part: 4, nlweb_message_type: 'end-nlweb-response', items: [] },
    });
  });

  it('marks the last piece complete itself when the end message arrives in the same read (no separate marker)', async () => {
    // The stand-in writes its last batch and end-nlweb-response together, as one packet.
    const server = await h.standin({ style: 'current', batches: 3 });
    const out = await collect(h.agent(server), turn('vegetarian dinner ideas'));
    expect(out.length).toBe(3);
    expect(out.map((o) => o.final)).toEqual([false, false, true]);
    expect(out.map((o) => o.metadata!.complete)).toEqual([false, false, true]);
    expect(out.map((o) => o.metadata!.part)).toEqual([1, 2, 3]);
    const last = out[2]!;
    expect(last.metadata).toMatchObject({ nlweb_message_type: 'result', in_reply_to: 'trigger-1' });
    expect((last.metadata!.items as unknown[]).length).toBeGreaterThan(0);
    expect(last.content).not.toBe('');
  });

  it('streams an older-style answer (api_version, result_batch, complete)', async () => {
    const clock = createManualClock();
    const server = await h.standin({ style: 'legacy', batches: 2, latencyMs: 200, endDelayMs: 50, clock });
    const out = await endApartFromLastPiece(server, clock, turn('camping stove'), 2);
    expect(out.map((o) => o.metadata!.nlweb_message_type)).toEqual(['result_batch', 'result_batch', 'complete']);
    expect(out[0]!.content).toContain('Compact Camping Stove');
    expect(out[2]!.final).toBe(true);
  });

  it("an older-style server's complete message in the same read as the last batch marks that batch final", async () => {
    const server = await h.standin({ style: 'legacy', batches: 2 });
    const out = await collect(h.agent(server), turn('camping stove'));
    expect(out.map((o) => o.metadata!.nlweb_message_type)).toEqual(['result_batch', 'result_batch']);
    expect(out.map((o) => o.final)).toEqual([false, true]);
  });

  it.each(['current', 'legacy'] as const)('includes the summary in summarize mode (%s)', async (style) => {
    const server = await h.standin({ style, batches: 1 });
    const out = await collect(h.agent(server, { mode: 'summarize' }), turn('chocolate cake'));
    const summary = out.find((o) => (o.content as string).startsWith('Found 1 item'));
    expect(summary).toBeDefined();
    expect(summary!.metadata!.nlweb_message_type).toBe(style === 'current' ? 'result' : 'summary');
    expect(summary!.content).toContain('Classic Chocolate Cake');
  });

  it.each(['current', 'legacy'] as const)('maps a generate-mode nlws answer (%s)', async (style) => {
    const server = await h.standin({ style });
    const out = await collect(h.agent(server, { mode: 'generate' }), turn('thai curry'));
    // The answer and the end message come in one write: the answer is final itself.
    expect(out).toHaveLength(1);
    expect(out[0]!.metadata!.nlweb_message_type).toBe('nlws');
    expect(out[0]!.content).toMatch(/^For "thai curry", Thai Green Curry fits best/);
    expect((out[0]!.metadata!.items as unknown[]).length).toBeGreaterThan(0);
    expect(out[0]!.final).toBe(true);
  });

  it('the conversation settings override the endpoint mode and site', async () => {
    const server = await h.standin();
    await collect(
      h.agent(server, { mode: 'list', site: 'all' }),
      turn('oats', { settings: { nlweb_mode: 'generate', site: ['a.example', 'b.example'] } }),
    );
    expect(server.requests[0]!.params).toMatchObject({ mode: 'generate', generate_mode: 'generate', site: 'a.example,b.example' });
  });

  it('ignores unknown and intermediate message types', async () => {
    const server = await h.standin({ batches: 2 });
    const agent = h.agent(server);
    const normal = await collect(agent, turn('hiking backpack'));
    server.setBehaviour('unknown-types');
    const withUnknown = await collect(agent, turn('hiking backpack'));
    expect(withUnknown.map((o) => o.content)).toEqual(normal.map((o) => o.content));
  });

  it.each(['current', 'legacy'] as const)('reads a non-streaming JSON answer (%s)', async (style) => {
    const server = await h.standin({ style, batches: 3 });
    const out = await collect(h.agent(server, { streaming: false, mode: 'summarize' }), turn('vegetarian dinner'));
    expect(server.requests[0]!.params.streaming).toBe('false');
    expect(out.length).toBeGreaterThanOrEqual(2);
    expect(out.slice(0, -1).every((o) => o.final === false)).toBe(true);
    const last = out[out.length - 1]!;
    expect(last.final).toBe(true);
    expect(last.metadata!.complete).toBe(true);
    expect(last.content).toMatch(/^Found \d+ items/);
    const names = out.flatMap((o) => (o.metadata!.items as { name: string }[]).map((i) => i.name));
    expect(names).toContain('Spicy Vegetarian Chili');
  });

  it.each([
    ['no-results', 'no_results', 'Recipes has no answer (no results)'],
    ['irrelevant', 'site_is_irrelevant_to_query', 'Recipes has no answer (site is irrelevant to query)'],
  ] as const)('posts nothing on %s when silent, one note when configured', async (behaviour, reason, note) => {
    const server = await h.standin();
    server.setBehaviour(behaviour);
    expect(await collect(h.agent(server, { onNoAnswer: 'silent' }), turn('vegetarian'))).toEqual([]);
    const noted = await collect(h.agent(server, { onNoAnswer: 'note', displayName: 'Recipes' }), turn('vegetarian'));
    expect(noted).toHaveLength(1);
    expect(noted[0]).toMatchObject({
      final: true,
      message_type: 'nlweb_response',
      metadata: { no_answer: reason, complete: true, in_reply_to: 'trigger-1' },
    });
    expect(noted[0]!.content).toBe(note);
  });

  it('treats a query that matches nothing as no answer', async () => {
    const server = await h.standin();
    expect(await collect(h.agent(server), turn('quantum chromodynamics'))).toEqual([]);
  });
});

describe('NLWeb agent: what /ask receives', () => {
  it('sends query, prev, last_ans, user and conversation as NLWeb parameters', async () => {
    const server = await h.standin();
    const earlier = [
      message({ content: 'I like spicy food', message_id: 'h1' }),
      message({ content: 'something for dinner', sender_id: 'bob', message_id: 'h2' }),
    ];
    const trigger = message({ content: 'vegetarian please', message_id: 'trigger-9', sequence_id: 9 });
    const lastAnswer = [
      message({
        content: '...',
        sender_type: 'ai',
        sender_id: 'nlweb',
        message_type: 'nlweb_response',
        metadata: { items: [{ name: 'Thai Green Curry', url: 'https://recipes.example.org/thai-green-curry' }] },
      }),
      message({
        content: '...',
        sender_type: 'ai',
        sender_id: 'nlweb',
        message_type: 'nlweb_response',
        metadata: { items: [{ name: 'Lemon Garlic Pasta', url: 'https://recipes.example.org/lemon-garlic-pasta' }] },
      }),
      message({ content: '', sender_type: 'ai', sender_id: 'nlweb', message_type: 'nlweb_response', metadata: { items: [] } }),
    ];
    await collect(
      h.agent(server, { site: 'recipes.example.org', mode: 'list' }),
      turn('vegetarian please', { trigger, burst: [trigger], recentHumanMessages: [...earlier, trigger], lastAiAnswer: lastAnswer }),
    );
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/ask');
    expect(req.params).toMatchObject({
      query: 'vegetarian please',
      site: 'recipes.example.org',
      mode: 'list',
      generate_mode: 'none',
      streaming: 'true',
      conversation_id: 'conv-1',
      user_id: 'alice',
      user_name: 'Alice Example',
      query_id: 'trigger-9.nlweb',
    });
    expect(JSON.parse(req.params.prev!)).toEqual(['I like spicy food', 'something for dinner']);
    expect(JSON.parse(req.params.last_ans!)).toEqual([
      { title: 'Thai Green Curry', url: 'https://recipes.example.org/thai-green-curry' },
      { title: 'Lemon Garlic Pasta', url: 'https://recipes.example.org/lemon-garlic-pasta' },
    ]);
  });

  it('joins a multi-message burst into one query and keeps it out of prev', async () => {
    const server = await h.standin();
    const a = message({ content: 'tent', message_id: 'b1' });
    const b = message({ content: 'and a stove', message_id: 'b2', sender_id: 'bob' });
    const older = message({ content: 'going camping', message_id: 'o1' });
    await collect(h.agent(server), turn('x', { trigger: b, burst: [a, b], recentHumanMessages: [older, a, b] }));
    expect(server.requests[0]!.params.query).toBe('tent\nand a stove');
    expect(JSON.parse(server.requests[0]!.params.prev!)).toEqual(['going camping']);
  });

  it('moves an oversized context into a form body the server still reads', async () => {
    const server = await h.standin();
    const long = Array.from({ length: 5 }, (_, i) => message({ content: `${'word '.repeat(400)}${i}`, message_id: `long-${i}` }));
    const trigger = message({ content: 'oats', message_id: 't-long' });
    const out = await collect(h.agent(server), turn('oats', { trigger, burst: [trigger], recentHumanMessages: [...long, trigger] }));
    expect(out.length).toBeGreaterThan(0);
    const prev = JSON.parse(server.requests[0]!.params.prev!) as string[];
    expect(prev).toHaveLength(5);
    expect(prev[4]).toMatch(/ 4$/);
    expect(String(server.requests[0]!.headers['content-type'])).toContain('application/x-www-form-urlencoded');
  });

  // Found with 100 people in one room: a 10 s burst (about a thousand lines) stayed in the URL, the stand-in (like
  // any Node or aiohttp server) answered 431, and every turn of a busy room ended in agent_job_failed.
  it('moves a burst too long for a URL into the form body, so a busy room is still answered', async () => {
    const server = await h.standin();
    const burst = Array.from({ length: 1000 }, (_, i) =>
      message({ content: `vegetarian dinner ideas? ça dépend ${i}`, message_id: `burst-${i}`, sender_id: `u${i}` }),
    );
    const trigger = burst[burst.length - 1]!;
    const out = await collect(h.agent(server), turn(trigger.content, { trigger, burst, recentHumanMessages: burst.slice(-5) }));
    expect(out.some((o) => o.message_type === 'nlweb_response')).toBe(true);
    const request = server.requests[0]!;
    expect(request.params.query).toBe(burst.map((m) => m.content).join('\n'));
    expect(request.params.conversation_id).toBeDefined();
    expect(String(request.headers['content-type'])).toContain('application/x-www-form-urlencoded');
  });

  it("keeps the URL under aiohttp's request-line limit for one long message too", () => {
    const long = message({ content: 'это очень длинное сообщение '.repeat(300), message_id: 'long-1' });
    const encoded = encodeNlwebAskParams(
      buildNlwebAskParams(turn(long.content, { trigger: long, burst: [long] }), {
        site: 'all',
        mode: 'list',
        streaming: true,
        endpointId: 'nlweb',
      }),
    );
    expect(encoded.search.length).toBeLessThanOrEqual(MAX_QUERY_STRING_CHARS);
    expect(new URLSearchParams(encoded.body).get('query')).toBe(long.content);
  });

  it('answers human text messages only, unless AI messages are allowed', () => {
    const agent = h.agent({ url: 'http://127.0.0.1:9' } as never);
    const human = message({ content: 'hi' });
    const ai = message({ content: 'hello', sender_type: 'ai', sender_id: 'other' });
    const system = message({ content: 'joined', sender_type: 'system', message_type: 'join' });
    expect(agent.wantsTurn!(human, 0)).toBe(true);
    expect(agent.wantsTurn!(ai, 1)).toBe(false);
    expect(agent.wantsTurn!(system, 0)).toBe(false);
    expect(agent.wantsTurn!(message({ content: '   ' }), 0)).toBe(false);
    const chatty = h.agent({ url: 'http://127.0.0.1:9' } as never, { answerAiMessages: true });
    expect(chatty.wantsTurn!(ai, 1)).toBe(true);
  });

  describe('trace context', () => {
    const exporter = new InMemorySpanExporter();
    beforeAll(() => {
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    });
    afterAll(() => {
      trace.disable();
      propagation.disable();
      context.disable();
    });

    it('sends a traceparent of its nlweb.ask client span', async () => {
      const server = await h.standin();
      const parent = trace.getTracer('test').startSpan('turn');
      await context.with(trace.setSpan(context.active(), parent), () => collect(h.agent(server), turn('oats')));
      parent.end();
      const header = String(server.requests[0]!.headers.traceparent);
      const spans = exporter.getFinishedSpans();
      const ask = spans.find((s) => s.name === 'nlweb.ask')!;
      expect(ask).toBeDefined();
      expect(ask.kind).toBe(2 /* SpanKind.CLIENT */);
      expect(header).toBe(`00-${ask.spanContext().traceId}-${ask.spanContext().spanId}-01`);
      expect(ask.spanContext().traceId).toBe(parent.spanContext().traceId);
    });
  });
});
