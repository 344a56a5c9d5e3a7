import http from 'node:http';
import type { TcpProxy } from '../client/real-server';
import { closeAll, type Harness } from './harness';
import { startOwnerPair } from './owner-pair';

/**
 * An event stream asked at a server that does not hold the conversation, with `chat.ownership.forward` on: forwarding
 * reads the holder's whole answer before passing it on, and a stream has none, so the request hung until the 30 s
 * forward timeout. It is answered 421 CHAT_ERR_OWNED_ELSEWHERE with the holder's address instead, for the client to
 * open the stream there.
 */
const proxies: TcpProxy[] = [];
afterEach(async () => {
  await closeAll();
  for (const p of proxies.splice(0)) await p.close();
});

/** One GET, sent once (fetch repeats a request answered 421), resolving with its status, type and JSON body. */
function getOnce(server: Harness, path: string, userId: string): Promise<{ status: number; type: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.token(userId)}` }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: JSON.parse(text) }));
    });
    req.once('error', reject);
  });
}

test('GET .../events at the server that does not hold the conversation is answered 421 with the holder, not forwarded', async () => {
  const pair = await startOwnerPair({});
  proxies.push(pair.proxy);
  const conv = await pair.holder.createConversation('alice', ['bob']);
  const answer = await getOnce(pair.other, `/chat/conversations/${conv}/events`, 'bob');
  expect(answer.status).toBe(421);
  expect(answer.type).toMatch(/^application\/json/);
  expect(answer.body).toMatchObject({ error: 'CHAT_ERR_OWNED_ELSEWHERE', owner_address: pair.proxy.url });
  expect(pair.other.server.gateway.connectionCount()).toBe(0);
  expect(pair.holder.server.gateway.connectionCount()).toBe(0);
});
