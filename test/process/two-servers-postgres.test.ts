import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';
import { startServerProcess, type ServerProcess } from './server-process';

/**
 * Two real server processes (`node dist/bin/nlweb-chat.js`) on one PostgreSQL schema, as behind a load
 * balancer or during a rolling deploy: a conversation is sequenced by one of them only
 * (docs/conversations.md, "Several servers on one store").
 */
const reachable = pgReachableSync();

describeWithPg(reachable)('two server processes on one PostgreSQL schema', () => {
  const schema = uniqueSchema();
  const dir = mkdtempSync(path.join(tmpdir(), 'nlweb-chat-two-servers-'));
  const configFile = path.join(dir, 'config.yaml');
  const running: ServerProcess[] = [];

  beforeAll(() => {
    writeFileSync(
      configFile,
      [
        'server:',
        '  auth: { mode: dev }',
        'chat:',
        '  storage:',
        '    backend: postgres',
        `    postgres: { url: '${PG_URL}', schema: ${schema}, pool_size: 2 }`,
        '  nlweb: { endpoints: [], standin: { enabled: false } }',
        'observability: { log_level: info, metrics: { enabled: false } }',
        '',
      ].join('\n'),
    );
  });
  afterEach(async () => {
    for (const p of running.splice(0)) await p.kill();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (reachable) await dropSchema(schema);
  });

  async function server(id: string): Promise<ServerProcess> {
    const p = await startServerProcess({
      NLWEB_CHAT_CONFIG: configFile,
      NLWEB_CHAT_INSTANCE_ID: id,
      NLWEB_CHAT_ADDRESS: `ws://${id}.example`,
    });
    running.push(p);
    return p;
  }

  async function call(p: ServerProcess, method: string, url: string, user: string, body?: unknown) {
    const res = await fetch(`${p.url}${url}${url.includes('?') ? '&' : '?'}user_id=${user}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  }

  /** The status of a WebSocket upgrade refused before it completes (no subprotocol offered). */
  function upgradeStatus(p: ServerProcess, conv: string, user: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${p.wsUrl}/chat/ws/${conv}?user_id=${user}`);
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('error', (err) => reject(err));
    });
  }

  const contents = (page: { messages: Array<{ content: string; message_type: string }> }) =>
    page.messages.filter((m) => m.message_type === 'text').map((m) => m.content);

  test('one sequences the conversation, the other refuses it with 421 naming the owner, then takes over when it stops', async () => {
    const a = await server('a');
    const b = await server('b');
    const created = await call(a, 'POST', '/chat/conversations', 'alice', {
      conversation_id: `conv-${schema}`,
      participants: [{ participant_id: 'bob' }],
    });
    expect(created.status).toBe(201);
    const conv = created.body.conversation_id as string;
    expect((await call(a, 'POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm1', content: 'one' })).status).toBe(201);

    const refused = await call(b, 'POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'm2', content: 'two' });
    expect(refused.status).toBe(421);
    expect(refused.body).toMatchObject({ error: 'CHAT_ERR_OWNED_ELSEWHERE', owner_address: 'ws://a.example' });
    expect(await upgradeStatus(b, conv, 'bob')).toBe(421);

    // A clean stop releases the claim: b takes over at once, numbering goes on, nothing is marked lost.
    a.child.kill('SIGTERM');
    expect((await a.exited).code).toBe(0);
    expect((await call(b, 'POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'm2', content: 'two' })).status).toBe(201);
    const page = await call(b, 'GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'bob');
    expect(contents(page.body)).toEqual(['one', 'two']);
    expect(page.body.messages.filter((m: { message_type: string }) => m.message_type === 'lost')).toEqual([]);
    const ids = page.body.messages.map((m: { sequence_id: number }) => m.sequence_id);
    expect(ids).toEqual(ids.map((_: number, i: number) => i + 1));
  });

  test('a server killed and restarted with the same instance id takes its conversations back at once', async () => {
    const b = await server('b2');
    const created = await call(b, 'POST', '/chat/conversations', 'alice', { conversation_id: `crash-${schema}` });
    const conv = created.body.conversation_id as string;
    // Delivery comes before the journal write: re-send the id (as the docs say) until the answer says it is stored.
    let stored = false;
    for (let attempt = 0; attempt < 500 && !stored; attempt++) {
      const answer = await call(b, 'POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm1', content: 'before' });
      expect(answer.status).toBe(201);
      stored = answer.body.persisted === true;
    }
    expect(stored).toBe(true);
    await b.kill();

    // Another server is refused: the killed one's claim has not expired (15 s)...
    const other = await server('c2');
    expect((await call(other, 'GET', `/chat/conversations/${conv}/messages?after=0&limit=10`, 'alice')).status).toBe(421);
    // ...but the same server, restarted, claims it again at once and carries on after what it may have handed out.
    const again = await server('b2');
    expect(
      (await call(again, 'POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: 'm2', content: 'after' })).status,
    ).toBe(201);
    const page = await call(again, 'GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'alice');
    expect(contents(page.body)).toEqual(['before', 'after']);
    const ids = page.body.messages.map((m: { sequence_id: number }) => m.sequence_id);
    expect(ids).toEqual(ids.map((_: number, i: number) => i + 1));
  });
});
