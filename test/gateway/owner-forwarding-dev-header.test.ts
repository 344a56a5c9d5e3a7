import { MemoryStore } from '../../storage-providers';
import { startTcpProxy, type TcpProxy } from '../client/real-server';
import { closeAll, startHarness } from './harness';

/**
 * Development authentication lets a caller name itself with the X-User-Id header instead of `?user_id=`
 * (docs/http-api.md). An HTTP request forwarded to the conversation's holder (chat.ownership.forward) must carry
 * that header along, or the holder cannot tell who is calling and answers 401 "no user_id".
 */
describe('owner forwarding of a dev-mode request naming its user by header', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  test('a post to the non-holder with X-User-Id is answered 201 by the holder', async () => {
    const store = new MemoryStore({ claims: true });
    let aPort = 0;
    const proxy = await startTcpProxy(() => aPort);
    proxies.push(proxy);
    const config = (id: string, address: string) => ({
      server: { auth: { mode: 'dev' as const } },
      chat: { ownership: { instance_id: id, address, forward: true } },
    });
    const a = await startHarness(config('a', proxy.url), { store });
    aPort = Number(new URL(a.url).port);
    const b = await startHarness(config('b', 'ws://b.invalid'), { store });
    const created = await fetch(`${a.url}/chat/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
      body: JSON.stringify({ title: 't', auto_join_agents: false }),
    });
    expect(created.status).toBe(201);
    const { conversation_id: conv } = (await created.json()) as { conversation_id: string };

    const posted = await fetch(`${b.url}/chat/conversations/${conv}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'alice' },
      body: JSON.stringify({ message_id: 'h1', content: 'via b, named by header' }),
    });
    expect({ status: posted.status, body: await posted.json() }).toMatchObject({
      status: 201,
      body: { message_id: 'h1', duplicate: false },
    });
    const read = await fetch(`${b.url}/chat/conversations/${conv}/messages?after=0`, { headers: { 'x-user-id': 'alice' } });
    expect(read.status).toBe(200);
    const page = (await read.json()) as { messages: { message_id: string; sender_id: string }[] };
    expect(page.messages.find((m) => m.message_id === 'h1')?.sender_id).toBe('alice');
  });
});
