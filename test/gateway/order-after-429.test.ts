import { createManualClock, type ManualClock } from '../../actors/clock';
import { closeAll, startHarness, type Harness } from './harness';
import type { TestClient } from './ws-test-client';

/**
 * After a 429 a connection's later messages wait for the refused one (gateway/order-hold.ts): a sender's own
 * messages are stored in the order it sent them even when the bucket refills while some are on the wire.
 * Rate limit: burst 2, 1 token per second, on a manual clock.
 */
describe('order of one connection after a 429', () => {
  let clock: ManualClock;
  let h: Harness;
  let alice: TestClient;
  let conv: string;

  beforeEach(async () => {
    clock = createManualClock();
    h = await startHarness({ chat: { limits: { rate_limit_burst: 2, rate_limit_per_second: 1 } } }, { clock });
    conv = await h.createConversation('alice', ['bob']);
    alice = await h.connect(conv, 'alice');
    await alice.waitFor('connected');
  });
  afterEach(closeAll);

  const post = (id: string) => alice.send({ type: 'message', message_id: id, content: id });
  /** The next answer (ack or error) to `id` on `client` not returned before. */
  const consumed = new Set<object>();
  async function answerTo(id: string, client: TestClient = alice): Promise<Record<string, unknown>> {
    const fresh = (f: { message_id?: string }) => f.message_id === id && !consumed.has(f);
    const ack = client.waitFor('message_ack', fresh);
    const error = client.waitFor('error', fresh);
    // The one that loses stays registered until the socket closes: its rejection then is expected.
    ack.catch(() => undefined);
    error.catch(() => undefined);
    const frame = await Promise.race([ack, error]);
    consumed.add(frame);
    return frame as unknown as Record<string, unknown>;
  }
  async function stored(): Promise<string[]> {
    const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=50`, 'alice');
    return page.body.messages.filter((m: { message_type: string }) => m.message_type === 'text').map((m: { content: string }) => m.content);
  }

  test('messages behind a refused one are refused too, and one arriving after the refill cannot overtake it', async () => {
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) post(id);
    expect(await answerTo('m1')).toMatchObject({ type: 'message_ack' });
    expect(await answerTo('m2')).toMatchObject({ type: 'message_ack' });
    expect(await answerTo('m3')).toMatchObject({ type: 'error', error: 'GATEWAY_ERR_RATE_LIMITED', code: 429, retry_after_ms: 1000 });
    const held = await answerTo('m4');
    expect(held).toMatchObject({ type: 'error', error: 'GATEWAY_ERR_HELD_FOR_ORDER', code: 429, retry_after_ms: 1000 });
    expect(String(held.message)).toContain('"m3"');
    expect(await answerTo('m5')).toMatchObject({ type: 'error', error: 'GATEWAY_ERR_HELD_FOR_ORDER' });

    // The bucket has a token again. m5 arriving first (a frame that was on the wire) still waits for m3.
    clock.advance(1000);
    post('m5');
    expect(await answerTo('m5')).toMatchObject({ type: 'error', error: 'GATEWAY_ERR_HELD_FOR_ORDER' });
    post('m3');
    expect(await answerTo('m3')).toMatchObject({ type: 'message_ack' });
    clock.advance(1000);
    post('m4');
    expect(await answerTo('m4')).toMatchObject({ type: 'message_ack' });
    clock.advance(1000);
    post('m5');
    expect(await answerTo('m5')).toMatchObject({ type: 'message_ack' });
    expect(await stored()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  test('a refused message that is never re-sent holds the others for its retry time plus 5 s, no longer', async () => {
    for (const id of ['m1', 'm2', 'm3']) post(id);
    expect(await answerTo('m3')).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED' });
    clock.advance(5999);
    post('other');
    expect(await answerTo('other')).toMatchObject({ error: 'GATEWAY_ERR_HELD_FOR_ORDER', retry_after_ms: 1 });
    clock.advance(1);
    post('other');
    expect(await answerTo('other')).toMatchObject({ type: 'message_ack' });
    expect(await stored()).toEqual(['m1', 'm2', 'other']);
  });

  test('a refused message that comes back with a content error releases the others (the client drops it)', async () => {
    for (const id of ['m1', 'm2']) post(id);
    alice.send({ type: 'message', message_id: 'bad', content: 'x'.repeat(10) });
    expect(await answerTo('bad')).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED' });
    clock.advance(1000);
    alice.send({ type: 'message', message_id: 'bad', content: '\u0000' });
    expect(await answerTo('bad')).toMatchObject({ error: 'GATEWAY_ERR_CONTENT_INVALID' });
    post('next');
    expect(await answerTo('next')).toMatchObject({ type: 'message_ack' });
  });

  test('the hold is per connection: another socket of the same user is limited by the shared bucket only', async () => {
    const tab2 = await h.connect(conv, 'alice');
    await tab2.waitFor('connected');
    for (const id of ['m1', 'm2', 'm3']) post(id);
    expect(await answerTo('m3')).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED' });
    clock.advance(1000);
    tab2.send({ type: 'message', message_id: 't1', content: 't1' });
    expect(await answerTo('t1', tab2)).toMatchObject({ type: 'message_ack' });
  });
});
