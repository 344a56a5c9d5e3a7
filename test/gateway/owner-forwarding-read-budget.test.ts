import type { RequestHandler } from 'express';
import { createManualClock } from '../../actors/clock';
import { FORWARDED_BY_HEADER } from '../../gateway/owner-forwarding';
import type { TcpProxy } from '../client/real-server';
import { closeAll } from './harness';
import { startOwnerPair } from './owner-pair';

/**
 * The read budget (chat.limits.reads_per_second) with `chat.ownership.forward`: a read sent to a server that does
 * not hold the conversation spends a token there and another at the holder, which answers it. Each server counts
 * the reads it handles; these tests pin what a client sees of that.
 */
describe('read budget of reads forwarded to the conversation’s holder', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  const BUDGET = { chat: { limits: { reads_per_second: 1, reads_burst: 3 } } };

  /** The pair on one manual clock; `forwarded` lists the requests the holder received from the other server. */
  async function start() {
    const clock = createManualClock();
    const forwarded: string[] = [];
    const seeForwarded: RequestHandler = (req, _res, next) => {
      if (req.headers[FORWARDED_BY_HEADER] !== undefined) forwarded.push(`${req.method} ${req.url}`);
      next();
    };
    const pair = await startOwnerPair(BUDGET, { holder: { clock, extraRoutes: (app) => app.use(seeForwarded) }, other: { clock } });
    proxies.push(pair.proxy);
    const conv = await pair.holder.createConversation('alice', ['bob']);
    return { ...pair, clock, forwarded, conv };
  }

  test('a client reading only through the other server gets the whole budget: the holder never refuses before the other server does', async () => {
    const { other, clock, forwarded, conv } = await start();
    const read = (): Promise<number> => other.request('GET', `/chat/conversations/${conv}`, 'alice').then((r) => r.status);
    for (let i = 0; i < 3; i++) expect(await read()).toBe(200);
    expect(forwarded).toHaveLength(3);
    // The fourth is refused by the server the client asked, as with one server: it never reaches the holder.
    const refused = await other.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', retry_after_ms: 1000 });
    expect(forwarded).toHaveLength(3);
    // A second later both buckets have one token again; the holder's, spent only by what got through, is never emptier.
    clock.advance(1000);
    expect(await read()).toBe(200);
    expect(await read()).toBe(429);
    clock.advance(3000);
    for (let i = 0; i < 3; i++) expect(await read()).toBe(200);
    expect(await read()).toBe(429);
    expect(forwarded).toHaveLength(7);
  });

  test("the holder counts every read it answers, forwarded or asked directly: one user's load on it stays within one budget", async () => {
    const { holder, other, conv } = await start();
    for (let i = 0; i < 3; i++) expect((await other.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(200);
    // alice's reads through the other server were the holder's work: asking it directly now is over her budget there.
    expect((await holder.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(429);
    expect((await holder.request('GET', `/chat/conversations/${conv}`, 'bob')).status).toBe(200);
  });

  test('a client that sends the forwarding header itself spends its budget like any other', async () => {
    const { holder, conv } = await start();
    const read = async (): Promise<number> => {
      const res = await fetch(`${holder.url}/chat/conversations/${conv}`, {
        headers: { authorization: `Bearer ${holder.token('alice')}`, [FORWARDED_BY_HEADER]: 'other' },
      });
      await res.arrayBuffer();
      return res.status;
    };
    for (let i = 0; i < 3; i++) expect(await read()).toBe(200);
    expect(await read()).toBe(429);
  });
});
