import { PostgresStore } from '../../storage-providers';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';
import { parseJsonLines, runCli } from './replay-fixtures';
import { faithfulJournal } from './divergence-journals';

const reachable = pgReachableSync();

describeWithPg(reachable)('replay CLI on PostgreSQL (--storage postgres://...?schema=)', () => {
  const schema = uniqueSchema();
  const spec = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  const records = faithfulJournal();

  beforeAll(async () => {
    const store = new PostgresStore({ url: PG_URL, schema, poolSize: 2 });
    await store.open();
    try {
      await store.createConversation({
        conversation_id: 'conv-1',
        title: 'pg fixture',
        created_at: '2026-01-01T09:00:00.000Z',
        created_by: 'alice',
        settings: {},
        status: 'active',
      });
      await store.appendMessages('conv-1', records);
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    if (reachable) await dropSchema(schema);
  });

  it('checks and re-runs the stored journal cleanly', async () => {
    const out = await runCli(['conv-1', '--storage', spec, '--check', '--rerun']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`rerun OK: conversation conv-1: ${records.length} records, ${records.length} compared, 0 divergences`);
  });

  it('exports the journal to stdout with the conversation metadata in the header', async () => {
    const out = await runCli(['export', 'conv-1', '--storage', spec]);
    expect(out.code).toBe(0);
    const [header, ...rest] = parseJsonLines(out.stdout);
    expect(header).toMatchObject({
      format: 'nlweb-chat-journal',
      version: 1,
      conversation_id: 'conv-1',
      conversation: { title: 'pg fixture' },
    });
    expect(rest).toEqual(records);
  });

  it('lists the conversation, and names an unknown one with exit 1', async () => {
    const list = await runCli(['list', '--storage', spec]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^conv-1\t2026-01-01T09:00:00.000Z\tactive\t\d+ records\tpg fixture$/m);
    const unknown = await runCli(['nope', '--storage', spec]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('CHAT_ERR_NOT_FOUND: conversation nope not found in postgres storage');
  });
});
