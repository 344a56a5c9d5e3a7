/**
 * docs/protocol.md, "A complete session": the block is replayed against a real server (port 0, dev authentication,
 * real `ws` sockets) and every received line compared with the doc's, byte for byte once the values that differ
 * from run to run (times, connection ids, the conversation id) are set aside. So the example a client writer copies
 * from cannot drift from what the server sends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAll, invalidFrames, startHarness, track } from '../gateway/harness';
import { TestClient } from '../gateway/ws-test-client';
import { fencedBlocks, repo, section } from './doc-examples';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** Keys whose values differ on every run. */
const VARYING = new Set(['created_at', 'timestamp', 'server_time', 'connection_id']);

/** The JSON text with the varying values blanked and the run's conversation id written as the doc's. */
function comparable(json: string, runId: string, docId: string): string {
  const replaced = JSON.parse(json.split(runId).join(docId), (key, value: unknown) => (VARYING.has(key) ? '<varies>' : value));
  return JSON.stringify(replaced);
}

/** One socket of the session and how far the comparison has read its frames. */
interface Speaker {
  client: TestClient;
  read: number;
}

describe('protocol.md: a complete session', () => {
  test('the server sends exactly what the doc shows', async () => {
    const markdown = readFileSync(join(repo, 'docs/protocol.md'), 'utf8');
    const block = fencedBlocks(section(markdown, '## A complete session')).find((b) => b.lang === 'text');
    if (!block) throw new Error('no text block in "A complete session"');
    const lines = block.body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

    const h = await startHarness({ server: { auth: { mode: 'dev' } } });
    const wsBase = h.url.replace(/^http/, 'ws');
    const speakers = new Map<string, Speaker>();
    let docId = '';
    let runId = '';
    let lastHttp: { status: number; text: string } | undefined;
    const compared: string[] = [];

    for (const line of lines) {
      const post = /^POST (\S+) (.*)$/.exec(line);
      const answer = /^← (\d{3}) (.*)$/.exec(line);
      const connect = /^(\w+) connects: GET (\S+)$/.exec(line);
      const said = /^(\w+) ([→←]) (.*)$/.exec(line);
      const drop = /^(\w+) drops$/.exec(line);
      if (post) {
        const res = await fetch(`${h.url}${post[1]}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: post[2] });
        lastHttp = { status: res.status, text: await res.text() };
        runId = (JSON.parse(lastHttp.text) as { conversation_id: string }).conversation_id;
      } else if (answer) {
        docId = (JSON.parse(answer[2]) as { conversation_id: string }).conversation_id;
        expect([line, lastHttp?.status, comparable(lastHttp?.text ?? '{}', runId, docId)]).toEqual([
          line,
          Number(answer[1]),
          comparable(answer[2], docId, docId),
        ]);
      } else if (connect) {
        const client = track(new TestClient(`${wsBase}${connect[2].split(docId).join(runId)}`));
        speakers.set(connect[1], { client, read: 0 });
      } else if (drop) {
        speakers.get(drop[1])!.client.ws.terminate();
      } else if (said) {
        const speaker = speakers.get(said[1]);
        if (!speaker) throw new Error(`${said[1]} speaks before connecting: ${line}`);
        const closeLine = /^close (\d+) (".*")$/.exec(said[3]);
        if (said[2] === '→') speaker.client.send(said[3].split(docId).join(runId));
        else if (closeLine) {
          expect([line, await speaker.client.closed]).toEqual([line, { code: Number(closeLine[1]), reason: JSON.parse(closeLine[2]) }]);
        } else {
          await speaker.client.until(() => speaker.client.frames.length > speaker.read);
          const got = JSON.stringify(speaker.client.frames[speaker.read++]);
          expect([line, comparable(got, runId, docId)]).toEqual([line, comparable(said[3], docId, docId)]);
        }
      } else {
        throw new Error(`a line the test cannot read: ${line}`);
      }
      compared.push(line);
    }
    // Nothing came that the doc does not show.
    for (const [who, { client, read }] of speakers) expect([who, client.frames.slice(read)]).toEqual([who, []]);
    expect(compared.length).toBe(lines.length);
  });
});
