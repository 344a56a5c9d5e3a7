import fs from 'node:fs';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import { isChatError } from '../../actors';
import { openJsonlSource } from '../../bin/replay/journal-source';
import { makeHeader, parseJournalLine } from '../../bin/replay/jsonl';
import { LineWriter } from '../../bin/replay/line-writer';
import { createParticipantView } from '../../bin/replay/participant-view';
import { createProgress } from '../../bin/replay/progress';
import { parseStorageSpec } from '../../bin/replay/storage-spec';
import { withoutUrlPasswords } from '../../bin/storage-location';
import { excerpt, formatTimelineLine, timeOfDay } from '../../bin/replay/timeline-format';
import { journalBuilder, makeTmpDir, memorySink, writeJournal } from './replay-fixtures';
import { cleanJournal } from './violation-journals';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isChatError(err) ? err.code : 'not a ChatError';
  }
  return undefined;
}

describe('storage spec', () => {
  it('parses memory, sqlite paths and postgres URLs with an optional schema', () => {
    expect(parseStorageSpec('memory')).toEqual({ backend: 'memory' });
    expect(parseStorageSpec('sqlite:./chat.db')).toEqual({ backend: 'sqlite', path: './chat.db' });
    expect(parseStorageSpec('sqlite:///var/lib/chat.db')).toEqual({ backend: 'sqlite', path: '/var/lib/chat.db' });
    expect(parseStorageSpec('postgres://u:pw@db:5432/chat?schema=tenant_1&sslmode=disable')).toEqual({
      backend: 'postgres',
      url: 'postgres://u:pw@db:5432/chat?sslmode=disable',
      schema: 'tenant_1',
    });
    expect(parseStorageSpec('postgresql://db/chat')).toEqual({ backend: 'postgres', url: 'postgresql://db/chat' });
  });

  it('parses redis URLs with an optional key prefix (default nlweb-chat:), taken out of the URL', () => {
    expect(parseStorageSpec('redis://:pw@cache:6380/2?prefix=tenant-b:&family=6')).toEqual({
      backend: 'redis',
      url: 'redis://:pw@cache:6380/2?family=6',
      keyPrefix: 'tenant-b:',
    });
    expect(parseStorageSpec('rediss://cache')).toEqual({ backend: 'redis', url: 'rediss://cache', keyPrefix: 'nlweb-chat:' });
    expect(codeOf(() => parseStorageSpec('redis://cache?prefix=a b'))).toBe('CONFIG_ERR_INVALID');
  });

  it('rejects anything else with CONFIG_ERR_INVALID, without echoing a password', () => {
    expect(codeOf(() => parseStorageSpec('mongodb://x'))).toBe('CONFIG_ERR_INVALID');
    expect(codeOf(() => parseStorageSpec('sqlite:'))).toBe('CONFIG_ERR_INVALID');
    expect(codeOf(() => parseStorageSpec('postgres://db/chat?schema=a;drop'))).toBe('CONFIG_ERR_INVALID');
    expect(withoutUrlPasswords('cannot reach postgres://user:secret@host/db')).toBe('cannot reach postgres://user:***@host/db');
  });
});

describe('JSONL lines', () => {
  it('parses a header and a record, and names the line of anything malformed', () => {
    const header = makeHeader('c1', new Date(Date.UTC(2026, 0, 1)));
    expect(parseJournalLine(JSON.stringify(header), 1)).toEqual({ kind: 'header', header });
    const [record] = cleanJournal();
    expect(parseJournalLine(JSON.stringify(record), 2)).toEqual({ kind: 'record', record });
    const bad = (text: string) => {
      try {
        parseJournalLine(text, 7);
      } catch (err) {
        return (err as Error).message;
      }
      return 'parsed';
    };
    expect(bad('{nope')).toBe('line 7: not valid JSON');
    expect(bad('[1]')).toBe('line 7: not a JSON object');
    expect(bad(JSON.stringify({ ...header, version: 2 }))).toMatch(/^line 7: unsupported journal header/);
    expect(bad(JSON.stringify({ ...record, sequence_id: '1' }))).toBe('line 7: not a journal record (sequence_id must be an integer)');
    expect(bad(JSON.stringify({ ...record, sender_type: 'robot' }))).toMatch(/sender_type must be one of human, ai, system/);
    expect(bad(JSON.stringify({ ...record, metadata: null }))).toMatch(/metadata must be an object/);
  });
});

describe('JSONL source', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads the header's conversation id and streams the records (blank lines ignored)", async () => {
    const file = writeJournal(dir, 'a.jsonl', cleanJournal(), 'conv-1');
    fs.appendFileSync(file, '\n\n');
    const source = await openJsonlSource(file);
    expect(source.conversationId).toBe('conv-1');
    expect((await collect(source.records())).map((r) => r.sequence_id)).toEqual([1, 2, 3, 4, 5]);
    await source.close();
  });

  it('accepts a file without a header (the first record names the conversation)', async () => {
    const file = writeJournal(dir, 'b.jsonl', cleanJournal(), false);
    const source = await openJsonlSource(file);
    expect(source.conversationId).toBe('conv-1');
    expect(await collect(source.records())).toEqual(cleanJournal());
    await source.close();
  });

  it('rejects a conversation id that contradicts the header, an empty file, and a second header', async () => {
    const file = writeJournal(dir, 'c.jsonl', cleanJournal(), 'conv-1');
    await expect(openJsonlSource(file, 'conv-9')).rejects.toMatchObject({ code: 'CONFIG_ERR_INVALID' });
    const empty = path.join(dir, 'empty.jsonl');
    fs.writeFileSync(empty, '\n');
    await expect(openJsonlSource(empty)).rejects.toMatchObject({ code: 'CHAT_ERR_NOT_FOUND' });
    const twice = writeJournal(dir, 'd.jsonl', cleanJournal(), 'conv-1');
    fs.appendFileSync(twice, `${JSON.stringify(makeHeader('conv-1', new Date()))}\n`);
    const source = await openJsonlSource(twice);
    await expect(collect(source.records())).rejects.toThrow(/line 7: a header may only be the first line/);
    await source.close();
  });
});

describe('timeline format', () => {
  const j = journalBuilder('c', Date.UTC(2026, 4, 6, 7, 8, 9, 10) - 3000);
  j.join('a');
  j.join('b');

  it('prints sequence id, HH:MM:SS.mmm, sender with type, message type and an excerpt on one line', () => {
    const m = j.post('alice', 'm1', 'hi\nthere\u0007');
    expect(formatTimelineLine(m)).toBe(
      `${'3'.padStart(7)}  07:08:09.010  ${'alice (human)'.padEnd(22)}  ${'text'.padEnd(19)}  hi⏎there\\u0007`,
    );
  });

  it('truncates long content and long names with an ellipsis, and notes what an answer replies to', () => {
    const q = j.post('a-very-long-participant-identifier', 'm2', 'x'.repeat(200));
    const line = formatTimelineLine(q, { excerptWidth: 10 });
    expect(line).toContain('  a-very-long-participa…  text');
    expect(line.endsWith('xxxxxxxxx…')).toBe(true);
    const answer = j.answer('echo', q, 'ok');
    expect(formatTimelineLine(answer)).toMatch(/echo \(ai\)\s+text\s+\[re #4\] ok$/);
  });

  it('keeps unparseable times as they are and strips carriage returns', () => {
    expect(timeOfDay('not a time')).toBe('not a time');
    expect(excerpt('a\r\nb\tc', 80)).toBe('a⏎b c');
  });
});

describe('participant view', () => {
  it('covers each membership period from the join record to the leave record inclusive', () => {
    const j = journalBuilder();
    const records = [
      j.join('alice'),
      j.post('alice', 'a1', 'x'),
      j.join('bob'),
      j.mode('multi'),
      j.post('alice', 'a2', 'y'),
      j.leave('bob'),
      j.mode('single'),
      j.post('alice', 'a3', 'z'),
      j.join('bob'),
      j.mode('multi'),
      j.post('bob', 'b1', 'back'),
    ];
    const view = createParticipantView('bob');
    expect(records.filter((r) => view.accept(r)).map((r) => r.sequence_id)).toEqual([3, 4, 5, 6, 9, 10, 11]);
    expect(view.periods).toBe(2);
    expect(view.isMember).toBe(true);
    const nobody = createParticipantView('carol');
    expect(records.filter((r) => nobody.accept(r))).toEqual([]);
    expect(nobody.periods).toBe(0);
  });
});

describe('progress and output', () => {
  it('redraws one stderr line every N records on a terminal, and clears it at the end', () => {
    const tty = memorySink(true);
    const progress = createProgress(tty, 'replay', 2);
    for (let i = 0; i < 5; i++) progress.tick();
    progress.done();
    expect(tty.text()).toBe('\rreplay: 2 records\rreplay: 4 records\r\x1b[K');
  });

  it('writes nothing when stderr is not a terminal', () => {
    const pipe = memorySink(false);
    const progress = createProgress(pipe, 'replay', 1);
    progress.tick();
    progress.done();
    expect(pipe.text()).toBe('');
  });

  it('batches lines and waits for drain when the sink is full', async () => {
    const writes: string[] = [];
    const sink = Object.assign(new EventEmitter(), { write: (c: string) => (writes.push(c), false) });
    const writer = new LineWriter(sink, 10);
    await writer.line('abc');
    expect(writes).toEqual([]);
    const pending = writer.line('defghij');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['abc\ndefghij\n']);
    let done = false;
    void pending.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    sink.emit('drain');
    await pending;
    expect(done).toBe(true);
  });
});
