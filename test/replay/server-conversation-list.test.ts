/**
 * `replay list --server` reads every conversation although GET /chat/conversations pages (200 at most per page):
 * it follows next_cursor, and walks from the top again for a conversation that moved above the cursor meanwhile.
 * Real server on port 0 (memory store).
 */
import type express from 'express';
import { listServerConversations } from '../../bin/replay/http-source';
import { closeAll, startHarness, type Harness } from '../gateway/harness';

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
