import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManualClock } from '../../actors/clock';
import { isChatError } from '../../actors/errors';
import type { AgentOutput } from '../../actors/agents/agent';
import { collect, createHarness } from './standin-harness';
import { turn } from './turn-fixtures';

const h = createHarness();
afterEach(() => h.closeAll());

/** Collects outputs until the answer fails, returning both. */
async function collectUntilError(iterable: AsyncIterable<AgentOutput>): Promise<{ out: AgentOutput[]; error: unknown }> {
  const out: AgentOutput[] = [];
  try {
    for await (const piece of iterable) out.push(piece);
  } catch (error) {
    return { out, error };
  }
  return { out, error: undefined };
}

/** One answer from a raw server that sends `body` as its whole SSE stream, in one write. */
async function answerFromRawSse(body: string): Promise<{ out: AgentOutput[]; error: unknown }> {
  const raw = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(body);
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  try {
    const port = (raw.address() as AddressInfo).port;
    return await collectUntilError(h.agent({ url: `http://127.0.0.1:${port}` } as never).respond(turn('x'), new AbortController().signal));
  } finally {
    raw.closeAllConnections();
    await new Promise<void>((resolve) => raw.close(() => resolve()));
  }
}

describe('NLWeb agent failures become coded errors', () => {
  it('times out a hanging server with AGENT_ERR_TIMEOUT and drops the request', async () => {
    const server = await h.standin();
    server.setBehaviour('hang');
    // Long enough for the request to reach the stand-in even on a loaded machine, short for a test.
    const agent = h.agent(server, { timeoutMs: 400 });
    const started = Date.now();
    const answer = collect(agent, turn('oats'));
    const request = await server.waitForRequest(0);
    await expect(answer).rejects.toMatchObject({ code: 'AGENT_ERR_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(request.closed).resolves.toBe('aborted');
  });

  it('times out a non-streaming call that never answers', async () => {
    const server = await h.standin();
    server.setBehaviour('hang');
    await expect(collect(h.agent(server, { timeoutMs: 60, streaming: false }), turn('oats'))).rejects.toMatchObject({
      code: 'AGENT_ERR_TIMEOUT',
    });
  });

  it('maps HTTP 500 to AGENT_ERR_HTTP with the status', async () => {
    const server = await h.standin();
    server.setBehaviour('error500');
    const err: unknown = await collect(h.agent(server), turn('oats')).catch((e: unknown) => e);
    expect(isChatError(err, 'AGENT_ERR_HTTP')).toBe(true);
    expect((err as { details: { status: number } }).details.status).toBe(500);
  });

  it('maps a 404 (wrong base path) to AGENT_ERR_HTTP', async () => {
    const server = await h.standin();
    const agent = h.agent({ url: `${server.url}/not-nlweb` } as never);
    await expect(collect(agent, turn('oats'))).rejects.toMatchObject({ code: 'AGENT_ERR_HTTP', details: { status: 404 } });
  });

  it('maps invalid JSON in an event to AGENT_ERR_MALFORMED_STREAM', async () => {
    const server = await h.standin();
    server.setBehaviour('malformed');
    await expect(collect(h.agent(server), turn('oats'))).rejects.toMatchObject({ code: 'AGENT_ERR_MALFORMED_STREAM' });
  });

  it('maps an invalid JSON body to AGENT_ERR_MALFORMED_STREAM', async () => {
    const server = await h.standin();
    server.setBehaviour('malformed');
    await expect(collect(h.agent(server, { streaming: false }), turn('oats'))).rejects.toMatchObject({
      code: 'AGENT_ERR_MALFORMED_STREAM',
    });
  });

  it('keeps the pieces already streamed when the server closes mid-stream, then fails', async () => {
    const server = await h.standin({ latencyMs: 30, batches: 3 });
    server.setBehaviour('close-mid-stream');
    const { out, error } = await collectUntilError(h.agent(server).respond(turn('hiking camping'), new AbortController().signal));
    expect(out.length).toBe(2);
    expect(out.every((o) => o.final === false)).toBe(true);
    expect(isChatError(error, 'AGENT_ERR_MALFORMED_STREAM')).toBe(true);
  });

  it('fails a stream that ends cleanly without its end message', async () => {
    // A raw server: headers, one result, then the body ends with no end-nlweb-response.
    const { out, error } = await answerFromRawSse('data: {"message_type":"result","content":[{"@type":"Item","url":"u","name":"n"}]}\n\n');
    expect(out).toHaveLength(1);
    expect(isChatError(error, 'AGENT_ERR_MALFORMED_STREAM')).toBe(true);
  });

  it('does not mark a piece complete when the end message in the same read reports an error', async () => {
    // One write: a result, then end-nlweb-response with error: true. The piece went out; the answer failed.
    const { out, error } = await answerFromRawSse(
      'data: {"message_type":"result","content":[{"@type":"Item","url":"u","name":"n"}]}\n\n' +
        'data: {"message_type":"end-nlweb-response","error":true}\n\n',
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.final).toBe(false);
    expect(out[0]!.metadata!.complete).toBe(false);
    expect(isChatError(error, 'AGENT_ERR_FAILED')).toBe(true);
  });

  it('maps a refused connection to AGENT_ERR_CONNECTION', async () => {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expect(collect(h.agent({ url: `http://127.0.0.1:${port}` } as never), turn('oats'))).rejects.toMatchObject({
      code: 'AGENT_ERR_CONNECTION',
    });
  });

  it('maps an NLWeb-reported error (end-nlweb-response error:true) to AGENT_ERR_FAILED', async () => {
    const server = await h.standin();
    server.setBehaviour('nlweb-error');
    await expect(collect(h.agent(server), turn('oats'))).rejects.toMatchObject({ code: 'AGENT_ERR_FAILED' });
  });
});

describe('NLWeb agent cancellation and connection reuse', () => {
  it('aborting the signal closes the request on the server at once and ends silently', async () => {
    const server = await h.standin();
    server.setBehaviour('hang');
    const controller = new AbortController();
    const answer = collect(h.agent(server, { timeoutMs: 30_000 }), turn('oats'), controller.signal);
    const request = await server.waitForRequest(0);
    controller.abort();
    await expect(answer).resolves.toEqual([]);
    await expect(request.closed).resolves.toBe('aborted');
  });

  it('stopping iteration mid-answer (consumer break) also closes the request', async () => {
    // The stand-in's batches wait for this clock, so the rest of the answer cannot arrive before the break.
    const clock = createManualClock();
    const server = await h.standin({ latencyMs: 400, batches: 4, clock });
    const agent = h.agent(server);
    const answer = agent.respond(turn('hiking camping'), new AbortController().signal)[Symbol.asyncIterator]();
    const first = answer.next();
    await server.waitForRequest(0);
    clock.advance(100);
    expect((await first).value).toMatchObject({ final: false });
    await answer.return?.(undefined);
    await expect(server.requests[0]!.closed).resolves.toBe('aborted');
  });

  it('an already aborted signal makes no request', async () => {
    const server = await h.standin();
    const controller = new AbortController();
    controller.abort();
    await expect(collect(h.agent(server), turn('oats'), controller.signal)).resolves.toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('reuses one keep-alive socket for consecutive calls', async () => {
    const server = await h.standin({ batches: 3 });
    const agent = h.agent(server);
    for (let i = 0; i < 6; i++) {
      const out = await collect(agent, turn(i % 2 === 0 ? 'camping' : 'quantum nothing'));
      expect(out.length === 0 || out[out.length - 1]!.final === true).toBe(true);
    }
    server.setBehaviour('error500');
    await collect(agent, turn('oats')).catch(() => undefined);
    server.setBehaviour('normal');
    await collect(agent, turn('oats'));
    expect(server.requests).toHaveLength(8);
    expect(server.connectionCount).toBe(1);
    expect(new Set(server.requests.map((r) => r.connection))).toEqual(new Set([1]));
  });

  it('close() destroys the pooled sockets', async () => {
    const server = await h.standin();
    const agent = h.agent(server);
    await collect(agent, turn('oats'));
    agent.close();
    await collect(agent, turn('oats'));
    expect(server.connectionCount).toBe(2);
  });
});
