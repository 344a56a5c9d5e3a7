/**
 * The WebSocket protocol is versioned: a client names the version it speaks with `protocol_version` on the socket
 * URL, the `connected` frame says which one the server speaks on that socket, and a version the server does not
 * speak is refused before anything is completed (400 / close 1008 GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION, with the
 * versions it does speak), so a client shipped against a future protocol fails with a message to show instead of
 * misreading frames. No `protocol_version` (NLWeb's own clients send none) means version 1. Real server on port 0,
 * real `ws` clients.
 */
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, startHarness, track } from './harness';
import { connectClient, refusedAnswer, upgradeOutcome } from './ws-test-client';

afterEach(closeAll);

test('connected names the protocol version, with or without protocol_version=1 on the URL', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');

  const plain = await h.connect(conv, 'alice');
  expect(plain.frames[0]).toMatchObject({ type: 'connected', protocol_version: 1 });
  const named = track(await connectClient(h.wsUrl(conv, 'alice', { protocol_version: '1' })));
  expect(named.frames[0]).toMatchObject({ type: 'connected', protocol_version: 1 });
});

test('a version the server does not speak is refused with the versions it speaks, over HTTP and as a close', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');

  expect(await refusedAnswer(h.wsUrl(conv, 'alice', { protocol_version: '2' }))).toEqual({
    status: 400,
    body: {
      error: 'GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION',
      code: 400,
      message: 'protocol_version 2 is not spoken here; this server speaks 1',
      supported_protocol_versions: [1],
    },
  });
  expect(await upgradeOutcome(h.wsUrl(conv, 'alice', { protocol_version: '2' }), [REFUSAL_SUBPROTOCOL])).toMatchObject({
    status: 101,
    close: { code: 1008, reason: 'GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION 1' },
  });
});

test('a protocol_version that is not a positive integer, or given twice, is a bad request', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');

  for (const value of ['0', '1.0', 'v1', '', '01']) {
    const answer = await refusedAnswer(h.wsUrl(conv, 'alice', { protocol_version: value }));
    expect([value, answer]).toEqual([
      value,
      {
        status: 400,
        body: {
          error: 'GATEWAY_ERR_BAD_REQUEST',
          code: 400,
          message: 'protocol_version must be a positive integer (this server speaks 1)',
        },
      },
    ]);
  }
  const twice = await refusedAnswer(`${h.wsUrl(conv, 'alice', { protocol_version: '1' })}&protocol_version=2`);
  expect(twice).toEqual({
    status: 400,
    body: { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: 'protocol_version is given more than once' },
  });
});

test('a plainly written positive integer of any length is a version this server does not speak, not a bad request', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');

  for (const value of ['1000000', '12345678901234567890']) {
    expect(await refusedAnswer(h.wsUrl(conv, 'alice', { protocol_version: value }))).toEqual({
      status: 400,
      body: {
        error: 'GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION',
        code: 400,
        message: `protocol_version ${value} is not spoken here; this server speaks 1`,
        supported_protocol_versions: [1],
      },
    });
  }
});
