/**
 * `replay list --server` reads every conversation although GET /chat/conversations pages (200 at most per page):
 * it follows next_cursor, and walks from the top again for a conversation that moved above the cursor meanwhile.
 * Real server on port 0 (memory store).
 */
import type express from 'express';
import { listServerConversations } from '../../bin/replay/http-source';
import { closeAll, startHarness, type Harness } from '../gateway/harness';
import { runCli } from './replay-fixtures';

afterEach(closeAll);

const COUNT = 230;
const idOf = (i: number): string => `c${String(i).padStart(3, '0')}`;

async function createMany(h: Harness): Promise<void> {
  for (let i = 0; i < COUNT; i++) {
    await h.runtime.createConversation({
      conversation_id: idOf(i),
      created_by: 'alice',
      participants: [{ participant_id: 'alice', participant_type: 'human', role: 'owner' }],
      autoJoinAgents: false,
    });
  }
}

test(`lists all ${COUNT} conversations over pages of 200, oldest first, each once`, async () => {
  const h = await startHarness();
  await createMany(h);
  const listed = await listServerConversations({ url: h.url, token: h.token('alice') });
  expect(listed.map((c) => c.meta.conversation_id).sort()).toEqual(Array.from({ length: COUNT }, (_, i) => idOf(i)));
  expect(listed.every((c) => c.lastSequenceId === 1)).toBe(true);
});

test('a conversation that gets a message while the list is paged (moving above the cursor) is still listed', async () => {
  const started: { harness?: Harness } = {};
  let posted = false;
  // Before the second page is answered, the oldest conversation (on no page yet) gets a message.
  const interpose = (app: express.Express): void => {
    app.use(async (req, _res, next) => {
      if (!posted && req.path === '/chat/conversations' && req.query['cursor'] !== undefined) {
        posted = true;
        await started.harness!.runtime.post(idOf(0), { sender_id: 'alice', message_id: 'meanwhile', content: 'moved up' });
      }
      next();
    });
  };
  const h = await startHarness({}, { extraRoutes: interpose });
  started.harness = h;
  await createMany(h);
  const listed = await listServerConversations({ url: h.url, token: h.token('alice') });
  expect(posted).toBe(true);
  const ids = listed.map((c) => c.meta.conversation_id);
  expect(ids.length).toBe(COUNT);
  expect(new Set(ids).size).toBe(COUNT);
  expect(listed.find((c) => c.meta.conversation_id === idOf(0))?.lastSequenceId).toBe(2);
});

test(`list --server (CLI process) lists ${COUNT} conversations within the default read budget, in 3 requests`, async () => {
  // It used to GET each conversation for its last_sequence_id, which the list entries already carry: past
  // chat.limits.reads_burst (200) reads the server answered 429 and the list failed with exit 1.
  let reads = 0;
  const count = (app: express.Express): void => {
    app.use((req, _res, next) => {
      if (req.path.startsWith('/chat/')) reads += 1;
      next();
    });
  };
  const h = await startHarness({}, { extraRoutes: count });
  await createMany(h);
  await h.runtime.post(idOf(7), { sender_id: 'alice', message_id: 'm1', content: 'one more record' });
  const out = await runCli(['list', '--server', h.url, '--token', h.token('alice'), '--json']);
  expect(out).toMatchObject({ code: 0, stderr: '' });
  const lines = out.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { conversation_id: string; last_sequence_id: number });
  // Created within the same milliseconds: oldest first says nothing about their order here.
  expect(lines.map((l) => l.conversation_id).sort()).toEqual(Array.from({ length: COUNT }, (_, i) => idOf(i)));
  expect(lines.find((l) => l.conversation_id === idOf(7))?.last_sequence_id).toBe(2);
  expect(lines.filter((l) => l.last_sequence_id === 1)).toHaveLength(COUNT - 1);
  // Two pages, then one walk from the top that stops at the first unchanged entry.
  expect(reads).toBe(3);
});
