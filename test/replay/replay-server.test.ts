import fs from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { ChatMessage } from '../../actors';
import { MemoryStore, SqliteStore } from '../../storage-providers';
import { settle } from '../actors/runtime-helpers';
import { closeAll, closedPort, startHarness, type Harness } from '../gateway/harness';
import { HoledStore, deleteSqliteRecords, storeWithLostTail } from '../storage/journal-damage';
import { makeTmpDir, parseJsonLines, runMain as run } from './replay-fixtures';

/**
 * `--server`: the replay CLI reads a conversation from a running server over GET .../messages, so what
 * `npm start` holds in its memory store can be replayed. Real server on 127.0.0.1, port 0, real HTTP.
 */

/**
 * Posts `count` messages through the runtime (the gateway's per-user rate limit would refuse a burst of
 * hundreds over HTTP; only the reading goes over HTTP here) and waits until the store holds them all.
 */
async function postMany(h: Harness, conv: string, count: number, from = 'alice'): Promise<number> {
  let last = 0;
  for (let i = 0; i < count; i++) {
    last = (await h.runtime.post(conv, { sender_id: from, message_id: `${from}-${i}`, content: `${from} ${i}` })).sequence_id;
  }
  while ((await h.store.lastSequenceId(conv)) < last) await settle();
  return last;
}

let dir: string;
beforeAll(() => (dir = makeTmpDir()));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(closeAll);

describe('replay --server against a server on SQLite: the same as reading the file', () => {
  let h: Harness;
  let conv: string;
  let dbFile: string;
  let server: string[];
  beforeEach(async () => {
    dbFile = path.join(dir, `chat-${Date.now()}-${Math.random().toString(36).slice(2)}.db`);
    h = await startHarness({}, { store: new SqliteStore({ path: dbFile }) });
    conv = await h.createConversation('alice', ['bob'], { title: 'over http' });
    await postMany(h, conv, 3);
    await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob');
    await h.request('POST', `/chat/conversations/${conv}/join`, 'bob');
    // More than one page of 500, so paging on next_after is exercised.
    await postMany(h, conv, 520, 'bob');
    server = ['--server', h.url, '--token', h.token('alice')];
  });

  test('timeline, --json and --check --rerun match --storage sqlite: on the same data', async () => {
    for (const extra of [[], ['--json'], ['--check', '--rerun'], ['--as', 'bob']]) {
      const fromServer = await run(conv, ...server, ...extra);
      const fromStore = await run(conv, '--storage', `sqlite:${dbFile}`, ...extra);
      expect(fromServer.code).toBe(0);
      expect(fromServer).toEqual(fromStore);
    }
    const json = parseJsonLines((await run(conv, ...server, '--json')).stdout) as unknown as ChatMessage[];
    expect(json.map((m) => m.sequence_id)).toEqual(Array.from({ length: json.length }, (_, i) => i + 1));
    expect(json.length).toBeGreaterThan(520);
  });

  test('export from --server writes a JSONL that --file reads back, header carrying the metadata', async () => {
    const file = path.join(dir, `${conv}.jsonl`);
    const exported = await run('export', conv, ...server, '-o', file);
    expect(exported.code).toBe(0);
    const [header, ...records] = parseJsonLines(fs.readFileSync(file, 'utf8'));
    expect(header).toMatchObject({
      format: 'nlweb-chat-journal',
      conversation_id: conv,
      conversation: { title: 'over http', created_by: 'alice' },
    });
    expect(header).not.toHaveProperty('history_starts_at');
    expect(exported.stderr).toBe(`exported ${records.length} records of ${conv} to ${file}\n`);
    expect(await run('--file', file, '--json')).toEqual(await run(conv, ...server, '--json'));
    expect((await run('--file', file, '--check', '--rerun')).code).toBe(0);
  });

  test("list --server: the caller's conversations with their last sequence id", async () => {
    await h.createConversation('dave');
    const out = await run('list', ...server, '--json');
    expect(out.code).toBe(0);
    const last = (await h.runtime.getConversation(conv)).last_sequence_id;
    expect(parseJsonLines(out.stdout)).toEqual([
      expect.objectContaining({ conversation_id: conv, title: 'over http', last_sequence_id: last }),
    ]);
  });

  test('the token can come from NLWEB_CHAT_TOKEN', async () => {
    const saved = process.env.NLWEB_CHAT_TOKEN;
    process.env.NLWEB_CHAT_TOKEN = h.token('bob');
    try {
      expect((await run(conv, '--server', h.url, '--check')).code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.NLWEB_CHAT_TOKEN;
      else process.env.NLWEB_CHAT_TOKEN = saved;
    }
  });

  test("HTTP errors name the status and the server's code, exit 1", async () => {
    const wrong = jwt.sign({ sub: 'alice' }, 'not-the-secret', { algorithm: 'HS256' });
    const unauth = await run(conv, '--server', h.url, '--token', wrong);
    expect(unauth).toMatchObject({ code: 1, stdout: '' });
    expect(unauth.stderr).toMatch(
      /^replay: GATEWAY_ERR_UNAUTHENTICATED: GET http:\/\/127\.0\.0\.1:\d+\/chat\/conversations\/\S+ answered HTTP 401/,
    );
    expect(unauth.stderr).not.toContain(wrong);
    // About the token given, not "give --token" as when none was (a newcomer's token had the wrong secret).
    expect(unauth.stderr).toContain(
      "token signature does not verify (the server refused the token of --token or NLWEB_CHAT_TOKEN: in jwt mode it must be signed with the server's NLWEB_CHAT_JWT_SECRET",
    );
    const notMember = await run(conv, '--server', h.url, '--token', h.token('mallory'));
    expect(notMember).toMatchObject({ code: 1, stderr: expect.stringMatching(/^replay: CHAT_ERR_NOT_PARTICIPANT: .* answered HTTP 403/) });
    const unknown = await run('no-such-conversation', ...server);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringMatching(/^replay: CHAT_ERR_NOT_FOUND: .* answered HTTP 404/) });
    const listUnauth = await run('list', '--server', h.url, '--token', wrong);
    expect(listUnauth).toMatchObject({ code: 1, stderr: expect.stringContaining('HTTP 401') });
  });
});

describe('replay --server: connection and usage errors', () => {
  test('a refused connection names the server and ECONNREFUSED, exit 1', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const out = await run('c1', '--server', url, '--token', 't');
    expect(out).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(new RegExp(`^replay: ECONNREFUSED: cannot reach ${url}`)) });
    expect((await run('export', 'c1', '--server', url)).stderr).toContain('ECONNREFUSED');
  });

  test('exactly one source; --server needs http(s) and a conversation id; --user/--token only with --server', async () => {
    expect(await run('c1', '--server', 'http://127.0.0.1:1', '--storage', 'memory')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('give exactly one of --storage <spec>, --file <export.jsonl> or --server <url>'),
    });
    expect(await run('c1', '--server', 'ftp://127.0.0.1:1')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('CONFIG_ERR_INVALID'),
    });
    // A database URL given to --server (the other source) or the socket's address: the message says where each goes.
    expect(await run('c1', '--server', 'postgres://postgres@127.0.0.1:5432/test')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'replay: CONFIG_ERR_INVALID: --server must be http:// or https://, got postgres: (a database URL goes after --storage)\n',
    });
    expect((await run('c1', '--server', 'ws://127.0.0.1:8000')).stderr).toBe(
      "replay: CONFIG_ERR_INVALID: --server must be http:// or https://, got ws: (the server's HTTP address: http://…)\n",
    );
    expect(await run('--server', 'http://127.0.0.1:1')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('a conversation id is required'),
    });
    expect(await run('c1', '--storage', 'memory', '--user', 'alice')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--user and --token apply to --server'),
    });
    expect(await run('list')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('give exactly one of --storage <spec> or --server <url>'),
    });
  });
});

describe("replay --server: answers that are not the gateway's", () => {
  /** A server whose routes below /fake answer what `answers` says (a proxy, another service, a stuck runtime). */
  async function fakeServer(answers: Record<string, (res: import('express').Response) => void>) {
    const h = await startHarness(
      {},
      {
        extraRoutes: (app) => {
          for (const [route, answer] of Object.entries(answers)) app.get(`/fake${route}`, (_req, res) => answer(res));
        },
      },
    );
    return { h, url: `${h.url}/fake` };
  }

  test('an error page without the JSON body is HTTP_<status>; a success of the wrong shape HTTP_INVALID_BODY (path prefix kept)', async () => {
    const { url } = await fakeServer({
      '/chat/conversations/c1': (res) => void res.status(502).type('text/html').send('<html>bad gateway</html>'),
      '/chat/conversations/c2': (res) => void res.type('text/html').send('<html>a login page</html>'),
    });
    expect(await run('c1', '--server', url)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^replay: HTTP_502: GET http:\/\/127\.0\.0\.1:\d+\/fake\/chat\/conversations\/c1 answered HTTP 502\n$/),
    });
    expect(await run('c2', '--server', url)).toMatchObject({ code: 1, stderr: expect.stringContaining('replay: HTTP_INVALID_BODY: ') });
  });

  test('an empty page before the end (the server could not read its journal) stops with STORAGE_ERR_UNAVAILABLE instead of asking again', async () => {
    const served: { summary?: unknown } = {};
    const { h, url } = await fakeServer({
      '/chat/conversations/c1': (res) => void res.json(served.summary),
      '/chat/conversations/c1/messages': (res) =>
        void res.json({ conversation_id: 'c1', messages: [], next_after: 0, has_more: true, last_sequence_id: 5 }),
    });
    served.summary = await h.runtime.createConversation({ conversation_id: 'c1', created_by: 'alice' });
    expect(await run('c1', '--server', url)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'replay: STORAGE_ERR_UNAVAILABLE: the server returned no records after #0 though the conversation goes to #5',
      ),
    });
  });
});

describe('replay --server in dev mode', () => {
  test('--user names the caller (user_id); without it the server answers 401', async () => {
    const h = await startHarness({ server: { auth: { mode: 'dev' } } });
    await h.runtime.createConversation({ conversation_id: 'dev-c', created_by: 'alice' });
    await h.runtime.post('dev-c', { sender_id: 'alice', message_id: 'm1', content: 'hello' });
    const out = await run('dev-c', '--server', h.url, '--user', 'alice', '--json');
    expect(out.code).toBe(0);
    expect(parseJsonLines(out.stdout).map((m) => m.message_type)).toEqual(['join', 'text']);
    expect(await run('dev-c', '--server', h.url)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        '(development authentication) (give --token or NLWEB_CHAT_TOKEN; a dev-mode server on loopback takes --user)',
      ),
    });
  });
});

describe('replay --server over a bounded memory store (npm start)', () => {
  /** A server whose memory store keeps 10 records of a conversation and whose cache holds 2. */
  async function boundedServer(store: MemoryStore) {
    const h = await startHarness({ chat: { cache: { recent_messages: 2 } } }, { store });
    const conv = await h.createConversation('alice');
    await postMany(h, conv, 24); // 25 records with alice's join
    const oldest = (await store.readMessages(conv, 0, 1))[0].sequence_id;
    expect(oldest).toBeGreaterThan(10);
    return { h, conv, oldest, server: ['--server', h.url, '--token', h.token('alice')] };
  }

  test('--check reports history_trimmed and no sequence_gap (exit 0); --rerun refuses; export carries the start', async () => {
    const { conv, oldest, server } = await boundedServer(new MemoryStore({ maxRecordsPerConversation: 10 }));
    const check = await run(conv, ...server, '--check');
    expect(check.stdout).toBe(
      `note history_trimmed: sequence ids 1..${oldest - 1} are not in this journal (the source no longer holds them); checked from #${oldest}\n` +
        `check OK: conversation ${conv}: ${25 - oldest + 1} records, 0 violations (history from #${oldest})\n`,
    );
    expect(check.code).toBe(0);
    const rerun = await run(conv, ...server, '--rerun');
    expect(rerun).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining(`is held from #${oldest}`) });

    const file = path.join(dir, `bounded-${conv}.jsonl`);
    expect((await run('export', conv, ...server, '-o', file)).code).toBe(0);
    expect(parseJsonLines(fs.readFileSync(file, 'utf8'))[0]).toMatchObject({ history_starts_at: oldest });
    expect(await run('--file', file, '--check')).toEqual(check);
  });

  test('a hole inside the held range is still a sequence_gap (exit 2)', async () => {
    const store = new HoledStore({ maxRecordsPerConversation: 10 });
    const { conv, oldest, server } = await boundedServer(store);
    store.hole = oldest + 3;
    const check = await run(conv, ...server, '--check');
    expect(check.code).toBe(2);
    expect(check.stdout.split('\n').filter((l) => /^(note|violation)/.test(l))).toEqual([
      `note history_trimmed: sequence ids 1..${oldest - 1} are not in this journal (the source no longer holds them); checked from #${oldest}`,
      expect.stringMatching(new RegExp(`^violation #${oldest + 4} sequence_gap: sequence id ${oldest + 3} is missing`)),
    ]);
  });
});

describe('replay --server over a damaged SQLite journal', () => {
  test('ids missing at the start are a sequence_gap (exit 2), not history_trimmed: the server does not call them dropped', async () => {
    const dbFile = path.join(dir, `damaged-${Date.now()}.db`);
    const h = await startHarness({ chat: { cache: { recent_messages: 2 } } }, { store: new SqliteStore({ path: dbFile }) });
    const conv = await h.createConversation('alice');
    await postMany(h, conv, 9);
    deleteSqliteRecords(dbFile, conv, 4);
    const check = await run(conv, '--server', h.url, '--token', h.token('alice'), '--check');
    expect(check.code).toBe(2);
    expect(check.stdout).not.toContain('history_trimmed');
    expect(check.stdout.split('\n')[0]).toMatch(
      /^violation #5 sequence_gap: sequence ids 1\.\.4 are missing; #5 is the record after the gap /,
    );
    const rerun = await run(conv, '--server', h.url, '--token', h.token('alice'), '--rerun');
    expect(rerun.stderr).not.toContain('is held from');
  });
});

describe('replay --server over a journal that lost its end', () => {
  test('--check reads to the end and reports the missing ids as a sequence_gap at the end (exit 2), not an unreadable server', async () => {
    // c1 went to #20; the store holds 1..17: the server's last page covers 18..20 (next_after 20, has_more false).
    const h = await startHarness({}, { store: await storeWithLostTail(20, 17) });
    const check = await run('c1', '--server', h.url, '--token', h.token('alice'), '--check');
    expect(check.stderr).toBe('');
    expect(check.stdout).toBe(
      'violation #20 sequence_gap: sequence ids 18..20 are missing at the end of the journal (the source goes to #20)\n' +
        'check FAILED: conversation c1: 17 records, 1 violations\n',
    );
    expect(check.code).toBe(2);
    const json = await run('c1', '--server', h.url, '--token', h.token('alice'), '--check', '--json');
    expect(parseJsonLines(json.stdout)[0]).toEqual({
      type: 'violation',
      kind: 'sequence_gap',
      sequence_id: 20,
      message_id: '',
      sender_id: '',
      detail: 'sequence ids 18..20 are missing at the end of the journal (the source goes to #20)',
    });
    // The timeline shows what is held and ends.
    expect((await run('c1', '--server', h.url, '--token', h.token('alice'))).code).toBe(0);
  });
});
