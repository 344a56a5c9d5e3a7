/**
 * Config keys only the server binary reads (bin/nlweb-chat.ts), shown to change what the running server does.
 * Keys the runtime, gateway and stores read are shown where those are tested (docs/configuration.md's table).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import type { ChatMessage } from '../../actors';
import { createChatClient, type ChatClient, type WebSocketConstructor } from '../../client/chat-client';
import { createNlwebStandinServer, type NlwebStandinServer } from '../../testing/nlweb-standin-server';
import { nextEvent } from '../client/client-events';
import { startServerProcess, type ServerProcess } from './server-process';

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

describe('config keys the server binary reads', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  const clients: ChatClient[] = [];
  const collectors: Server[] = [];
  const standins: NlwebStandinServer[] = [];
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-effects-'))));
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.kill()));
    for (const c of collectors.splice(0)) await new Promise((resolve) => c.close(resolve));
    for (const s of standins.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serverWith(yaml: string): Promise<ServerProcess> {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, yaml);
    const server = await startServerProcess({ NLWEB_CHAT_CONFIG: file });
    servers.push(server);
    return server;
  }

  it('HOST and PORT (env) over the file: the server listens where they say', async () => {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, "server:\n  host: '127.0.0.1'\n  port: 8000\n");
    // 127.0.0.2 is loopback on Linux too, so dev auth still allows it; PORT=0 picks a free port, not 8000.
    const server = await startServerProcess({ NLWEB_CHAT_CONFIG: file, HOST: '127.0.0.2', PORT: '0' });
    servers.push(server);
    const ready = server.logs.find((l) => l.msg === 'nlweb-chat ready')!;
    expect(ready).toMatchObject({ host: '127.0.0.2', url: `http://127.0.0.2:${server.port}` });
    expect(server.port).not.toBe(8000);
    expect((await fetch(`http://127.0.0.2:${server.port}/health/chat`)).status).toBe(200);
  });

  it('chat.context.ws_max_retries: the page the server serves gives up after that many attempts (it was read nowhere); 0, the default, sets no limit', async () => {
    const server = await serverWith('chat:\n  context:\n    ws_max_retries: 3\n');
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).toContain('<meta name="nlweb-chat-max-retries" content="3" />');
    const byDefault = await serverWith('server:\n  port: 0\n');
    expect(await (await fetch(`${byDefault.url}/`)).text()).not.toContain('nlweb-chat-max-retries');
  });

  it('server.auth.mode: the page the server serves is told it, and asks for a token in jwt mode (a user id in dev)', async () => {
    const jwtServer = await serverWith('server:\n  auth:\n    mode: jwt\n    jwt_secret: config-effects-secret\n');
    expect(await (await fetch(`${jwtServer.url}/`)).text()).toContain('<meta name="nlweb-chat-auth-mode" content="jwt" />');
    const devServer = await serverWith('server:\n  port: 0\n');
    expect(await (await fetch(`${devServer.url}/`)).text()).toContain('<meta name="nlweb-chat-auth-mode" content="dev" />');
  });

  it('chat.limits.max_message_length: the page the server serves is told it, and refuses longer messages before sending', async () => {
    const server = await serverWith('chat:\n  limits:\n    max_message_length: 500\n');
    expect(await (await fetch(`${server.url}/`)).text()).toContain('<meta name="nlweb-chat-max-message-length" content="500" />');
  });

  it('chat.nlweb.standin.* start the stand-in as configured; tracing.otlp_endpoint receives the spans', async () => {
    // The OTLP collector: resolves on the first export (the SDK flushes at shutdown).
    let exported!: (path: string) => void;
    const export_ = new Promise<string>((resolve) => (exported = resolve));
    const collector = createServer((req, res) => req.resume().on('end', () => (res.end(), exported(`${req.method} ${req.url}`))));
    collectors.push(collector);
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const server = await serverWith(
      [
        'chat:',
        '  nlweb:',
        '    endpoints: [{ id: nlweb, url: standin }]',
        '    standin: { enabled: true, batches: 2, latency_ms: 0, style: legacy }',
        'observability:',
        `  tracing: { enabled: true, otlp_endpoint: 'http://127.0.0.1:${(collector.address() as AddressInfo).port}' }`,
        '',
      ].join('\n'),
    );
    const ready = server.logs.find((l) => l.msg === 'nlweb-chat ready')!;
    expect(ready.standin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready).toMatchObject({ agents: [{ id: 'nlweb', url: `${ready.standin as string}/` }], tracing: true });
    expect(server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('no AI agents configured'))).toEqual([]);

    const created = await fetch(`${server.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    const conversation = (await created.json()) as {
      conversation_id: string;
      participants: Array<{ participant_id: string; display_name: string }>;
    };
    // auto_join (default true) adds the endpoint, shown by its id (no display_name in the file).
    expect(conversation.participants).toContainEqual(expect.objectContaining({ participant_id: 'nlweb', display_name: 'nlweb' }));
    const alice = createChatClient({
      url: server.url,
      conversationId: conversation.conversation_id,
      userId: 'alice',
      WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
      pingIntervalMs: 0,
    });
    clients.push(alice);
    const answer: ChatMessage[] = [];
    alice.on('message', (m) => {
      if (m.sender_id === 'nlweb' && m.message_type === 'nlweb_response') answer.push(m);
    });
    await alice.connect();
    const complete = nextEvent(alice, 'message', (m) => m.sender_id === 'nlweb' && m.metadata.complete === true);
    await alice.send('vegetarian dinner');
    await complete;
    // batches: 2 (default 3): the answer comes in two pieces, the second complete.
    expect(answer.map((m) => m.metadata.complete)).toEqual([false, true]);

    alice.close();
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    expect(await export_).toBe('POST /v1/traces');
  });

  it('chat.nlweb.standin.enabled starts the stand-in only for an endpoint that uses it; the ready line names every endpoint', async () => {
    // "A real NLWeb server": another process's endpoint as far as the server can tell.
    const nlweb = await createNlwebStandinServer({ latencyMs: 0 });
    standins.push(nlweb);
    const server = await serverWith(
      [
        'chat:',
        '  nlweb:',
        `    endpoints: [{ id: recipes, url: '${nlweb.url}' }, { id: gear, url: '${nlweb.url}/gear' }]`,
        '    standin: { enabled: true }',
      ].join('\n'),
    );
    expect(server.logs.find((l) => l.msg === 'nlweb-chat ready')).toMatchObject({
      standin: null,
      agents: [
        { id: 'recipes', url: `${nlweb.url}/` },
        { id: 'gear', url: `${nlweb.url}/gear` },
      ],
    });
    expect(server.logs.map((l) => l.msg)).not.toContain('NLWeb stand-in listening');
    // Said once at start-up, so whoever enabled it knows why it is not there.
    expect(server.logs.find((l) => l.msg === 'NLWeb stand-in not started: no chat.nlweb.endpoints entry has url "standin"')).toMatchObject({
      level: 'info',
    });
  });
});
