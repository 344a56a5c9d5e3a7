import * as http from 'node:http';
import { createManualClock } from '../../actors/clock';
import { createSseParser } from '../../actors/agents/nlweb-sse-parser';
import { createHarness } from './standin-harness';

const h = createHarness();
afterEach(() => h.closeAll());

/** A raw GET whose body text can be awaited piece by piece. */
function rawGet(url: string): { until(pred: (text: string) => boolean): Promise<string>; status: Promise<number>; close(): void } {
  let text = '';
  let wake: (() => void) | undefined;
  let resolveStatus!: (s: number) => void;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const req = http.get(url, { agent: false }, (res) => {
    resolveStatus(res.statusCode ?? 0);
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      text += c;
      wake?.();
    });
    res.on('end', () => wake?.());
  });
  req.on('error', () => undefined);
  return {
    status,
    async until(pred) {
      while (!pred(text)) await new Promise<void>((r) => (wake = r));
      return text;
    },
    close: () => req.destroy(),
  };
}

describe('NLWeb stand-in server', () => {
  it('answers GET /ask with SSE, splitting the latency across batches on its clock', async () => {
    const clock = createManualClock();
    const server = await h.standin({ clock, latencyMs: 300, batches: 3 });
    const get = rawGet(`${server.url}/ask?query=hiking%20camping`);
    let text = await get.until((t) => t.includes('begin-nlweb-response'));
    expect(text.startsWith(': keepalive\n\n')).toBe(true);
    expect(clock.pendingTimers()).toBe(3);
    clock.advance(99);
    expect(clock.pendingTimers()).toBe(3);
    clock.advance(1);
    expect(clock.pendingTimers()).toBe(2);
    text = await get.until((t) => t.includes('"message_type":"result"'));
    clock.advance(200);
    text = await get.until((t) => t.includes('end-nlweb-response'));
    const parser = createSseParser();
    const types = [...parser.push(text), ...parser.end()].map((e) => (JSON.parse(e.data) as { message_type: string }).message_type);
    expect(types).toEqual(['begin-nlweb-response', 'result', 'result', 'result', 'end-nlweb-response']);
    expect(server.requests[0]!.method).toBe('GET');
    await expect(server.requests[0]!.closed).resolves.toBe('completed');
  });

  it('setLatency changes the latency of the requests that arrive after it', async () => {
    const clock = createManualClock();
    const server = await h.standin({ clock, latencyMs: 300, batches: 3 });
    server.setLatency(30);
    const get = rawGet(`${server.url}/ask?query=hiking`);
    await get.until((t) => t.includes('begin-nlweb-response'));
    clock.advance(29);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1);
    const text = await get.until((t) => t.includes('end-nlweb-response'));
    expect(text.match(/"message_type":"result"/g)).toHaveLength(3);
  });

  it('records prev from a JSON POST body too', async () => {
    const server = await h.standin();
    const body = JSON.stringify({ query: 'oats', prev: ['a', 'b'], streaming: false });
    const res = await fetch(`${server.url}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { message_type: string }[];
    expect(json.map((e) => e.message_type)).toEqual(['decontextualized_query', 'result']);
    expect(JSON.parse(server.requests[0]!.params.prev!)).toEqual(['a', 'b']);
  });

  it('a query its catalogue does not match: no_results whose message says what the stand-in knows and what to try', async () => {
    const server = await h.standin();
    const ask = async (query: string) =>
      (await (await fetch(`${server.url}/ask?query=${encodeURIComponent(query)}&streaming=false`)).json()) as {
        message_type: string;
        message?: string;
      }[];
    const [none] = await ask('any good restaurants near me?');
    expect(none).toMatchObject({ message_type: 'no_results' });
    expect(none!.message).toBe(
      'No results were found for "any good restaurants near me?". This NLWeb stand-in knows only its 12 bundled items ' +
        '(recipes.example.org, gear.example.org): try "vegetarian" or "tent".',
    );
    // What it suggests does answer.
    for (const query of ['vegetarian', 'tent']) expect((await ask(query)).map((e) => e.message_type)).toContain('result');
  });

  it('"vegetarian dinner ideas?": only vegetarian items, those matching more of the words first (no chicken curry)', async () => {
    const server = await h.standin();
    const ask = async (query: string) => {
      const res = await fetch(`${server.url}/ask?query=${encodeURIComponent(query)}&streaming=false`);
      const envelopes = (await res.json()) as { message_type: string; content?: { name: string }[] }[];
      return envelopes.flatMap((e) => (e.message_type === 'result' ? (e.content ?? []).map((item) => item.name) : []));
    };
    // Chili and pasta are vegetarian dinners; the oats only vegetarian; the curry (chicken) is a dinner, not vegetarian.
    expect(await ask('vegetarian dinner ideas?')).toEqual(['Spicy Vegetarian Chili', 'Lemon Garlic Pasta', 'Overnight Oats']);
    expect(await ask('vegans?')).toEqual(['Spicy Vegetarian Chili']);
    // The cake is no vegan item: only the vegan one, however many of the other words the cake matches.
    expect(await ask('vegan chocolate cake')).toEqual(['Spicy Vegetarian Chili']);
    expect(await ask('pescatarian dinner')).toEqual([]);
    // Without a diet word, every item matching a word, ranked by how many it matches.
    expect(await ask('spicy curry dinner')).toEqual(['Thai Green Curry', 'Spicy Vegetarian Chili', 'Lemon Garlic Pasta']);
  });

  it('answers 404 outside /ask and 200 on /health', async () => {
    const server = await h.standin();
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('close() ends open streams', async () => {
    const server = await h.standin();
    server.setBehaviour('hang');
    const get = rawGet(`${server.url}/ask?query=oats`);
    await get.until((t) => t.includes('begin-nlweb-response'));
    await h.closeAll();
    await expect(server.requests[0]!.closed).resolves.toBe('aborted');
    get.close();
  });
});
