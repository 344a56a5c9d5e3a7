import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { claimTestsAcrossInstances } from './claims-race';

/** Two SqliteStore instances (two connections, as two processes would have) on one file. */
describe('sqlite conversation claims across instances', () => {
  let dir: string;
  let a: SqliteStore;
  let b: SqliteStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-claims-'));
    const file = path.join(dir, 'chat.db');
    a = new SqliteStore({ path: file });
    b = new SqliteStore({ path: file });
    await Promise.all([a.open(), b.open()]);
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  claimTestsAcrossInstances(() => [a, b]);

  test('expiry uses the injected clock', async () => {
    let now = 1_000_000;
    const file = path.join(dir, 'clock.db');
    const x = new SqliteStore({ path: file, now: () => now });
    const y = new SqliteStore({ path: file, now: () => now });
    await Promise.all([x.open(), y.open()]);
    try {
      const meta = { conversation_id: 'c1', title: 't', created_at: 'x', created_by: 'a', settings: {}, status: 'active' as const };
      await x.createConversation(meta);
      expect(await x.claimConversation('c1', { ownerId: 'A', ttlMs: 1000 })).toEqual({ claimed: true, claim: { ownerId: 'A', epoch: 1 } });
      now += 400;
      expect(await y.claimConversation('c1', { ownerId: 'B', ttlMs: 1000 })).toEqual({
        claimed: false,
        holder: { ownerId: 'A', expiresInMs: 600 },
      });
      now += 600;
      expect(await y.claimConversation('c1', { ownerId: 'B', ttlMs: 1000 })).toEqual({ claimed: true, claim: { ownerId: 'B', epoch: 2 } });
    } finally {
      await x.close();
      await y.close();
    }
  });
});
