/**
 * Refused upgrades in both forms, with real `ws` clients against the real server on port 0: a plain
 * HTTP answer for clients that do not offer the refusal subprotocol (as before), and, for clients that
 * offer it, a completed handshake carrying nothing but one close frame with the documented close code.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { createManualClock } from '../../actors/clock';
import { ERROR_CODES, type ErrorCode, type ErrorSpec } from '../../actors/errors';
import { httpStatusToClose } from '../../client/chat-socket-url';
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { offersRefusalSubprotocol, refusalCloseCode, selectSubprotocol } from '../../gateway/upgrade-rejection';
import { closeAll, invalidFrames, startHarness, track, type Harness } from './harness';
import { refusedStatus, TestClient, upgradeOutcome, type UpgradeOutcome } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** What a client offering the refusal subprotocol sees for a refusal: 101, the subprotocol, no frame, one close. */
function coded(code: number, reason: string): UpgradeOutcome {
  return { status: 101, protocol: REFUSAL_SUBPROTOCOL, frames: [], close: { code, reason } };
}

interface Refusal {
  readonly name: string;
  readonly url: string;
  readonly origin?: string;
  readonly status: number;
  readonly close: number;
  readonly reason: string;
}

/** Every refusal a conversation's socket can meet (require_tls and shutdown have their own tests). */
function refusals(h: Harness, conv: string): Refusal[] {
  const base = h.url.replace(/^http/, 'ws');
  return [
    { name: 'no token', url: `${base}/chat/ws/${conv}`, status: 401, close: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED' },
    {
      name: 'wrong token',
      url: `${base}/chat/ws/${conv}?token=not-a-jwt`,
      status: 401,
      close: 4001,
      reason: 'GATEWAY_ERR_UNAUTHENTICATED',
    },
    { name: 'non-member', url: h.wsUrl(conv, 'mallory'), status: 403, close: 4003, reason: 'CHAT_ERR_NOT_PARTICIPANT' },
    {
      name: 'foreign origin',
      url: h.wsUrl(conv, 'alice'),
      origin: 'https://evil.example.net',
      status: 403,
      close: 4003,
      reason: 'GATEWAY_ERR_ORIGIN_NOT_ALLOWED',
    },
    { name: 'unknown conversation', url: h.wsUrl('no-such-conversation', 'alice'), status: 404, close: 4004, reason: 'CHAT_ERR_NOT_FOUND' },
    {
      name: 'wrong path',
      url: `${base}/chat/elsewhere?token=${h.token('alice')}`,
      status: 404,
      close: 4004,
      reason: 'GATEWAY_ERR_NOT_FOUND',
    },
    {
      name: 'bad last_sequence_id',
      url: h.wsUrl(conv, 'alice', { last_sequence_id: '-1' }),
      status: 400,
      close: 1008,
      reason: 'GATEWAY_ERR_BAD_REQUEST',
    },
    {
      name: 'undecodable conversation id',
      url: `${base}/chat/ws/%E0%A4%A?token=${h.token('alice')}`,
      status: 400,
      close: 1008,
      reason: 'GATEWAY_ERR_BAD_REQUEST',
    },
    {
      name: 'join on a full conversation',
      url: h.wsUrl(conv, 'mallory', { join: 'true' }),
      status: 409,
      close: 4009,
      reason: 'CHAT_ERR_PARTICIPANT_LIMIT',
    },
  ];
}

/** A peer on a raw TCP socket that offers the refusal subprotocol without credentials and never answers the close. */
function silentRefusedPeer(serverUrl: string): { received(): string; closeFrame: Promise<Buffer>; ended: Promise<void> } {
  const port = Number(new URL(serverUrl).port);
  const raw = net.connect(port, '127.0.0.1');
  const ended = new Promise<void>((resolve) => raw.once('close', () => resolve()));
  let received = Buffer.alloc(0);
  const closeFrame = new Promise<Buffer>((resolve) => {
    raw.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      // After the 101 head: FIN+opcode 0x88, the payload length, then the code and reason (a server does not mask).
      const start = received.indexOf('\r\n\r\n') + 4;
      if (start >= 4 && received.length >= start + 2 && received.length >= start + 2 + received[start + 1]!)
        resolve(received.subarray(start));
    });
  });
  raw.write(
    [
      'GET /chat/ws/anything HTTP/1.1',
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
      `Sec-WebSocket-Protocol: ${REFUSAL_SUBPROTOCOL}`,
      '',
      '',
    ].join('\r\n'),
  );
  return { received: () => received.toString('latin1'), closeFrame, ended };
}

describe('upgrade refusals', () => {
  test('each refusal: plain HTTP without the subprotocol, a coded close with it; the same audit events; nothing created', async () => {
    const audited: string[] = [];
    const audit = {
      authFailure: (actor: string, _target: string, reason: string) => audited.push(`auth ${actor} ${reason}`),
      forbidden: (actor: string, _conv: string, action: string) => audited.push(`forbidden ${actor} ${action}`),
      participantLimit: (actor: string, _conv: string, limit: number) => audited.push(`limit ${actor} ${limit}`),
    };
    const h = await startHarness({ chat: { limits: { max_participants: 2 } } }, { audit, allowedOrigins: ['https://chat.example.com'] });
    const conv = await h.createConversation('alice', ['bob']);
    const cases = refusals(h, conv);
    const withOrigin = (r: Refusal) => (r.origin === undefined ? {} : { origin: r.origin });

    // The refusals are decided alike in both forms, so they are audited alike.
    const expectedAudit = [
      'auth anonymous GATEWAY_ERR_UNAUTHENTICATED',
      'auth anonymous GATEWAY_ERR_UNAUTHENTICATED',
      'forbidden mallory ws connect',
      'forbidden anonymous ws connect from a foreign origin',
      'limit mallory 2',
    ];

    const plain = [];
    for (const r of cases) plain.push([r.name, await refusedStatus(r.url, withOrigin(r))]);
    expect(plain).toEqual(cases.map((r) => [r.name, r.status]));
    expect(audited.splice(0)).toEqual(expectedAudit);

    const offered = [];
    for (const r of cases) offered.push([r.name, await upgradeOutcome(r.url, [REFUSAL_SUBPROTOCOL], withOrigin(r))]);
    expect(offered).toEqual(cases.map((r) => [r.name, coded(r.close, r.reason)]));
    expect(audited.splice(0)).toEqual(expectedAudit);

    // Offered among others, it is still the one selected.
    expect(await upgradeOutcome(h.wsUrl(conv, 'mallory'), ['chat.v2', REFUSAL_SUBPROTOCOL])).toEqual(
      coded(4003, 'CHAT_ERR_NOT_PARTICIPANT'),
    );
    // Other subprotocols alone do not ask for it: plain HTTP as before.
    expect(await upgradeOutcome(h.wsUrl(conv, 'mallory'), ['chat.v2'])).toEqual({
      status: 403,
      protocol: '',
      frames: [],
      close: { code: 1006, reason: '' },
    });

    // No subscription or participant was created by any of them.
    expect(h.runtime.health().connections).toBe(0);
    expect(h.server.gateway.connectionCount()).toBe(0);
    const participants = (await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id);
    expect(participants.sort()).toEqual(['alice', 'bob']);
  });

  test('require_tls: 426 over HTTP, close 4026 on the subprotocol path', async () => {
    const h = await startHarness({ server: { tls: { require_tls: true } } });
    expect(await refusedStatus(h.wsUrl('any', 'alice'))).toBe(426);
    expect(await upgradeOutcome(h.wsUrl('any', 'alice'), [REFUSAL_SUBPROTOCOL])).toEqual(coded(4026, 'GATEWAY_ERR_TLS_REQUIRED'));
  });

  test('a closed gateway: 503 over HTTP, close 1001 (retriable) on the subprotocol path', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    await h.server.gateway.close();
    expect(await refusedStatus(h.wsUrl(conv, 'alice'))).toBe(503);
    expect(await upgradeOutcome(h.wsUrl(conv, 'alice'), [REFUSAL_SUBPROTOCOL])).toEqual(coded(1001, 'GATEWAY_ERR_SHUTTING_DOWN'));
  });

  test('an accepted connection offering the subprotocol gets it selected and works normally', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = track(new TestClient(h.wsUrl(conv, 'alice'), {}, ['chat.v2', REFUSAL_SUBPROTOCOL]));
    await alice.opened;
    expect(alice.ws.protocol).toBe(REFUSAL_SUBPROTOCOL);
    await alice.waitFor('connected');
    // Another subprotocol alone is selected as before (ws's default: the first offered).
    const bob = track(new TestClient(h.wsUrl(conv, 'bob'), {}, ['chat.v2', 'chat.v1']));
    await bob.opened;
    expect(bob.ws.protocol).toBe('chat.v2');
    await bob.waitFor('connected');
    alice.send({ type: 'message', message_id: 'm1', content: 'hello' });
    const ack = await alice.waitFor('message_ack');
    expect(ack).toMatchObject({ message_id: 'm1', persisted: true });
    expect((await bob.waitForSequence(ack.sequence_id)).message.content).toBe('hello');
  });

  test('a refused peer that never answers the close frame is terminated after the grace time on the gateway clock', async () => {
    const clock = createManualClock();
    const h = await startHarness({}, { clock });
    const peer = silentRefusedPeer(h.url);
    const frame = await peer.closeFrame;
    expect(peer.received()).toMatch(/^HTTP\/1\.1 101 .*\r\nSec-WebSocket-Protocol: nlweb-chat\.refusals\r\n/s);
    expect(frame[0]).toBe(0x88);
    expect(frame.readUInt16BE(2)).toBe(4001);
    expect(frame.subarray(4).toString()).toBe('GATEWAY_ERR_UNAUTHENTICATED');

    let closedEarly = false;
    void peer.ended.then(() => (closedEarly = true));
    clock.advance(999);
    // A round trip through the server: had it dropped the socket, the close would have had time to arrive.
    expect((await fetch(`${h.url}/livez`)).status).toBe(200);
    expect(closedEarly).toBe(false);
    clock.advance(1);
    await peer.ended;
  });

  test('a refusal decided after gateway.close() (its upgrade was still authenticating) sends its close and ends the socket', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let authenticating!: () => void;
    const started = new Promise<void>((resolve) => (authenticating = resolve));
    const authenticate = async (): Promise<undefined> => {
      authenticating();
      await gate;
      return undefined;
    };
    // The manual clock never fires the grace timer: only ending the socket at once lets the silent peer see it close.
    const h = await startHarness({}, { clock: createManualClock(), authenticate });
    const peer = silentRefusedPeer(h.url);
    await started;
    await h.server.gateway.close();
    release();
    const frame = await peer.closeFrame;
    expect(frame.readUInt16BE(2)).toBe(4001);
    await peer.ended;
  });

  test('gateway.close() terminates refused sockets still waiting for the close answer', async () => {
    const h = await startHarness({}, { clock: createManualClock() });
    const peer = silentRefusedPeer(h.url);
    await peer.closeFrame;
    await h.server.gateway.close();
    await peer.ended;
  });
});

describe('refusal subprotocol helpers', () => {
  test('a code keeps its own close code; any other gets what the reference client maps its HTTP status to', () => {
    // So a refusal means the same to the reference client in both forms, unless the code has a close code of its own.
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const spec: ErrorSpec = ERROR_CODES[code];
      expect([code, refusalCloseCode(code)]).toEqual([code, spec.close ?? httpStatusToClose(spec.http)]);
    }
  });

  test('the offer is found in the comma-separated header, by the exact name only', () => {
    const offers = (header?: string): boolean =>
      offersRefusalSubprotocol({ headers: header === undefined ? {} : { 'sec-websocket-protocol': header } } as IncomingMessage);
    expect([
      offers(),
      offers('nlweb-chat.refusals'),
      offers('chat.v2, nlweb-chat.refusals'),
      offers('chat.v2,nlweb-chat.refusals'),
    ]).toEqual([false, true, true, true]);
    expect([offers('nlweb-chat.refusals2'), offers('chat.v2'), offers('')]).toEqual([false, false, false]);
    expect([
      selectSubprotocol(new Set(['a', REFUSAL_SUBPROTOCOL])),
      selectSubprotocol(new Set(['a', 'b'])),
      selectSubprotocol(new Set()),
    ]).toEqual([REFUSAL_SUBPROTOCOL, 'a', false]);
  });
});
