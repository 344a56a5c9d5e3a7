/**
 * `--server` within the server's per-user read budget (chat.limits.reads_per_second / reads_burst): a journal of
 * more pages than the burst is read whole, the CLI waiting out each 429 as the answer says; a wait longer than the
 * CLI takes is the coded error. Real server on port 0, the CLI as a child process.
 */
import type express from 'express';
import { closeAll, startHarness, type Harness } from '../gateway/harness';
import { parseJsonLines, runCli, settle } from './replay-fixtures';

afterEach(closeAll);

/** Counts the answers the server gave with HTTP 429. */
function count429(counter: { refused: number }) {
  return (app: express.Express): void => {
    app.use((_req, res, next) => {
      res.on('finish', () => {
        if (res.statusCode === 429) counter.refused += 1;
      });
      next();
    });
  };
}

async function conversationOf(h: Harness, records: number): Promise<string> {
  const conv = await h.createConversation('alice', [], { title: 'long' });
  let last = 0;
  for (let i = 0; last < records; i++)
    last = (await h.runtime.post(conv, { sender_id: 'alice', message_id: `m${i}`, content: `line ${i}` })).sequence_id;
  while ((await h.store.lastSequenceId(conv)) < last) await settle();
  return conv;
}

test('a journal of more pages than the read burst is read whole: the CLI waits out each 429 (exit 0)', async () => {
  const counter = { refused: 0 };
  // Burst 1: the summary takes it; each of the 3 history pages (1 100 records, 500 a page) waits ~500 ms for its token.
  // At 10/s (a token every 100 ms) a loaded machine printed a page slower than a token came back, and the CLI's next
  // request found one waiting: 2 refusals, not 3 (a full CI run beside other work).
  const h = await startHarness({ chat: { limits: { reads_per_second: 2, reads_burst: 1 } } }, { extraRoutes: count429(counter) });
  const conv = await conversationOf(h, 1100);
  const out = await runCli([conv, '--server', h.url, '--token', h.token('alice'), '--json']);
  expect(out).toMatchObject({ code: 0, stderr: '' });
  const ids = parseJsonLines(out.stdout).map((r) => r.sequence_id);
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
  expect(ids.length).toBeGreaterThanOrEqual(1100);
  expect(counter.refused).toBeGreaterThanOrEqual(3);
});

test('a 429 asking for a longer wait than the CLI takes (30 s) is GATEWAY_ERR_RATE_LIMITED, exit 1, at once', async () => {
  const counter = { refused: 0 };
  // 0.01 reads/s: the next read is 100 s away.
  const h = await startHarness({ chat: { limits: { reads_per_second: 0.01, reads_burst: 1 } } }, { extraRoutes: count429(counter) });
  const conv = await conversationOf(h, 3);
  const started = Date.now();
  const out = await runCli([conv, '--server', h.url, '--token', h.token('alice')]);
  expect(out.code).toBe(1);
  expect(out.stderr).toMatch(
    /^replay: GATEWAY_ERR_RATE_LIMITED: GET http:\/\/127\.0\.0\.1:\d+\/chat\/conversations\/[^ ]+\/messages\?after=0&limit=500 answered HTTP 429: too many reads/,
  );
  expect(counter.refused).toBe(1);
  expect(Date.now() - started).toBeLessThan(20_000);
});
