/** The chat page's keeping of unsent messages (client/web/unsent-store.ts) and its "send again" rule (send-again.ts). */
import { canSendAgain } from '../../client/web/send-again';
import { createUnsentStore, keepNothing, UNSENT_LIMITS, unsentKey, type UnsentStorage } from '../../client/web/unsent-store';

function memoryStorage(): UnsentStorage & { items: Map<string, string>; full: boolean } {
  const items = new Map<string, string>();
  const storage = {
    items,
    full: false,
    getItem: (k: string) => items.get(k) ?? null,
    setItem(k: string, v: string) {
      // What a browser does past its quota.
      if (storage.full) throw new DOMException('quota exceeded', 'QuotaExceededError');
      items.set(k, v);
    },
    removeItem: (k: string) => void items.delete(k),
  };
  return storage;
}

describe('unsent messages in localStorage', () => {
  it('keeps messages in order per origin, user and conversation; replaces by id; forgets on remove and clear', () => {
    const storage = memoryStorage();
    const key = unsentKey('http://h:1', 'alice', 'trip');
    const store = createUnsentStore(storage, key);
    expect(store.put({ message_id: 'a', content: 'one' })).toBe(true);
    expect(store.put({ message_id: 'b', content: 'two', metadata: { k: 1 } })).toBe(true);
    expect(store.put({ message_id: 'a', content: 'one', refused: { code: 'CHAT_ERR_RESTARTING', message: 'm' } })).toBe(true);
    expect(store.list()).toEqual([
      { message_id: 'a', content: 'one', refused: { code: 'CHAT_ERR_RESTARTING', message: 'm' } },
      { message_id: 'b', content: 'two', metadata: { k: 1 } },
    ]);
    // Another user, server or conversation sees nothing of it; a second store of the key sees it all.
    for (const other of [
      unsentKey('http://h:2', 'alice', 'trip'),
      unsentKey('http://h:1', 'bob', 'trip'),
      unsentKey('http://h:1', 'alice', 'x'),
    ])
      expect(createUnsentStore(storage, other).list()).toEqual([]);
    expect(createUnsentStore(storage, key).list()).toHaveLength(2);
    // Ids with any character never make two triples share a key.
    expect(unsentKey('o', 'a","b', 'c')).not.toBe(unsentKey('o', 'a', 'b","c'));
    store.remove('a');
    expect(store.list().map((m) => m.message_id)).toEqual(['b']);
    store.clear();
    expect(storage.items.size).toBe(0);
  });

  it(`keeps at most ${UNSENT_LIMITS.messages} messages and ${UNSENT_LIMITS.chars} characters per conversation, and survives a full or broken storage`, () => {
    const storage = memoryStorage();
    const store = createUnsentStore(storage, unsentKey('o', 'u', 'c'));
    for (let i = 0; i < UNSENT_LIMITS.messages; i++) expect(store.put({ message_id: `m${i}`, content: 'x' })).toBe(true);
    expect(store.put({ message_id: 'one too many', content: 'x' })).toBe(false);
    expect(store.list()).toHaveLength(UNSENT_LIMITS.messages);
    store.clear();
    expect(store.put({ message_id: 'big', content: 'x'.repeat(UNSENT_LIMITS.chars) })).toBe(false);
    expect(store.put({ message_id: 'fits', content: 'x'.repeat(UNSENT_LIMITS.chars - 100) })).toBe(true);
    store.clear();

    storage.full = true;
    expect(store.put({ message_id: 'a', content: 'one' })).toBe(false);
    expect(store.list()).toEqual([]);
    storage.full = false;
    // Whatever else is under the key (edited by hand, an older page) is read as far as it is well-formed.
    storage.items.set(unsentKey('o', 'u', 'c'), JSON.stringify([{ message_id: 'ok', content: 'c' }, { content: 'no id' }, 7, null]));
    expect(store.list()).toEqual([{ message_id: 'ok', content: 'c' }]);
    storage.items.set(unsentKey('o', 'u', 'c'), '{not json');
    expect(store.list()).toEqual([]);
    expect(keepNothing().put({ message_id: 'a', content: 'b' })).toBe(false);
  });
});

describe('send again', () => {
  it('is offered for refusals that may pass later, not for those the same message always meets', () => {
    for (const code of ['CHAT_ERR_RESTARTING', 'STORAGE_ERR_UNAVAILABLE', 'GATEWAY_ERR_RATE_LIMITED', 'CLIENT_CLOSED', 'SOMETHING_NEW'])
      expect(canSendAgain(code)).toBe(true);
    for (const code of [
      'GATEWAY_ERR_CONTENT_INVALID',
      'GATEWAY_ERR_FRAME_TOO_LARGE',
      'CHAT_ERR_MESSAGE_ID_REUSED',
      'CHAT_ERR_NOT_PARTICIPANT',
    ])
      expect(canSendAgain(code)).toBe(false);
  });
});
