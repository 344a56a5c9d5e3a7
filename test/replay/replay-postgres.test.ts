import net from 'node:net';
import { once } from 'node:events';
import { PostgresStore } from '../../storage-providers';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema, withClient } from '../storage/pg-helpers';
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

describeWithPg(reachable)('replay CLI on a PostgreSQL schema without nlweb-chat tables', () => {
  // A mistyped ?schema= used to run the provider's migrations: it created the schema and empty tables in the
  // database under investigation, then answered "conversation not found".
  const schema = uniqueSchema();
  const spec = `${PG_URL}${PG_URL.includes('?') ? '&' : '?'}schema=${schema}`;
  afterAll(async () => {
    if (reachable) await dropSchema(schema);
  });
  const schemaExists = () =>
    withClient(async (c) => (await c.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])).rowCount === 1);

  it('refuses it with STORAGE_ERR_UNAVAILABLE naming the schema, and creates nothing (replay, export, list)', async () => {
    for (const args of [
      ['conv-1', '--storage', spec, '--check'],
      ['export', 'conv-1', '--storage', spec],
      ['list', '--storage', spec],
    ]) {
      const out = await runCli(args);
      expect(out).toMatchObject({ code: 1, stdout: '' });
      expect(out.stderr).toMatch(
        new RegExp(
          `^replay: STORAGE_ERR_UNAVAILABLE: PostgreSQL schema ${schema} in database \\S+ holds no nlweb-chat journal .*check \\?schema=`,
        ),
      );
    }
    expect(await schemaExists()).toBe(false);
  });
});

describe('replay CLI when PostgreSQL is unreachable', () => {
  it('exits 1 with STORAGE_ERR_UNAVAILABLE and the connection error, the password masked', async () => {
    // A port that was just free: nothing listens there, so the connection is refused.
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const out = await runCli(['conv-1', '--storage', `postgres://chat:hunter2@127.0.0.1:${port}/chat?schema=prod`]);
    expect(out).toMatchObject({ code: 1, stdout: '' });
    expect(out.stderr).toBe(`replay: STORAGE_ERR_UNAVAILABLE: cannot reach PostgreSQL: connect ECONNREFUSED 127.0.0.1:${port}\n`);
  });
});
