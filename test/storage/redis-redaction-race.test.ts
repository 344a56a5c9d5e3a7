/**
 * Two redactions of the same records at once, from two instances on one prefix (a conversation moving between
 * servers): each record is redacted by one of them and named by the other as redacted already, so it is announced
 * once (docs/storage.md, redactMessages). Both read the records before either writes, so the later compare-and-set
 * finds every record changed, and reads it again as the first wrote it: the same JSON this one would have written.
 */
import { meta, msgs, person } from '../../testing/store-contract/fixtures';
import { describeWithRedis, redisReachableSync, redisStoresPerTest } from './redis-helpers';

describeWithRedis(redisReachableSync())('redis redactions racing', () => {
  const redis = redisStoresPerTest();

  test('two instances redacting the same records at once: each record is redacted by one and already redacted for the other', async () => {
    const a = redis.make();
    const b = redis.make();
    await a.open();
    await b.open();
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const id = `c${round}`;
      await a.createConversation(meta(id), [person('alice'), person('bob')]);
      await a.appendMessages(id, msgs(id, 1, 40));
      const alice = (await a.readMessages(id, 0, 100)).filter((m) => m.sender_id === 'alice').map((m) => m.sequence_id);
      const [ra, rb] = await Promise.all([a.redactMessages(id, { senderId: 'alice' }), b.redactMessages(id, { senderId: 'alice' })]);
      const both = ra.redacted.filter((seq) => rb.redacted.includes(seq));
      expect({ round, both }).toEqual({ round, both: [] });
      expect([...ra.redacted, ...rb.redacted].sort((x, y) => x - y)).toEqual(alice);
      expect([...ra.redacted, ...ra.alreadyRedacted].sort((x, y) => x - y)).toEqual(alice);
      expect([...rb.redacted, ...rb.alreadyRedacted].sort((x, y) => x - y)).toEqual(alice);
    }
  });
});
