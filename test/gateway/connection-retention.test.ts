import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** V8's collector, to check what an open connection keeps alive. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('what an open connection keeps', () => {
  // Regression: a refusal closure capturing the request shared its context with the socket's lifelong
  // listeners, so every open connection kept its IncomingMessage (+1.25 KiB heap per idle connection).
  test('the upgrade request is released once the socket is upgraded (nothing long-lived captures it)', async () => {
    const gc = collector();
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const requests: WeakRef<IncomingMessage>[] = [];
    h.server.server.prependListener('upgrade', (req: IncomingMessage) => requests.push(new WeakRef(req)));
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await h.connect(conv, 'alice'));
    expect(requests).toHaveLength(5);
    for (let i = 0; i < 5 && requests.some((r) => r.deref() !== undefined); i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(requests.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    // The connections themselves are still open and working.
    const ack = clients[0]!.next('message_ack');
    clients[0]!.send({ type: 'message', message_id: 'still-here', content: 'hello' });
    expect((await ack).message_id).toBe('still-here');
  });
});
