import { createManualClock } from '../../actors/clock';
import type { GatewayLogger } from '../../gateway';
import { createNoopLogger } from '../../gateway/observability-hooks';
import { closeAll, closedPort } from './harness';
import { getOnce, startPairPublishing } from './owner-pair';
import { refusedStatus } from './ws-test-client';

/**
 * A holder that cannot be reached, with `chat.ownership.forward` on: every client of every conversation it held is
 * refused 421 by the server it asked, and retries. The warn line saying so names the conversation and is written once
 * per holder address per 10 s of the gateway's clock, the next one counting those left out (`suppressed`).
 */
describe('log lines of a holder that cannot be reached', () => {
  afterEach(closeAll);

  interface Line {
    readonly msg: string;
    readonly fields: Record<string, unknown>;
  }

  function recordingLogger(lines: Line[]): GatewayLogger {
    const logger: GatewayLogger = {
      ...createNoopLogger(),
      warn: (fields, msg) => void lines.push({ msg: msg ?? '', fields: fields as Record<string, unknown> }),
      child: () => logger,
    };
    return logger;
  }

  /** A holder publishing a closed port (it cannot be reached there), and a forwarding server on a manual clock. */
  async function deadHolderPair() {
    const deadAddress = `ws://127.0.0.1:${await closedPort()}`;
    const clock = createManualClock();
    const lines: Line[] = [];
    const { holder, other } = await startPairPublishing(deadAddress, {}, { other: { clock, logger: recordingLogger(lines) } });
    const first = await holder.createConversation('alice', ['bob']);
    const second = await holder.createConversation('carol', ['dave']);
    const warned = (msg: string): Line[] => lines.filter((l) => l.msg === msg);
    return { other, clock, deadAddress, first, second, warned };
  }

  test('websocket upgrades: one line per holder address per 10 s, naming a conversation, the next counting those left out', async () => {
    const { other, clock, deadAddress, first, second, warned } = await deadHolderPair();
    const WS_LINE = 'could not forward a websocket to its conversation server';
    for (const [conv, user] of [
      [first, 'alice'],
      [first, 'bob'],
      [second, 'carol'],
      [first, 'alice'],
    ] as const) {
      expect(await refusedStatus(other.wsUrl(conv, user))).toBe(421);
    }
    expect(warned(WS_LINE).map((l) => l.fields)).toEqual([
      { conversation_id: first, owner_address: deadAddress, err: expect.stringContaining('ECONNREFUSED'), suppressed: 0 },
    ]);

    clock.advance(9_999);
    expect(await refusedStatus(other.wsUrl(second, 'dave'))).toBe(421);
    expect(warned(WS_LINE)).toHaveLength(1);
    clock.advance(1);
    expect(await refusedStatus(other.wsUrl(second, 'carol'))).toBe(421);
    expect(warned(WS_LINE).map((l) => l.fields)).toEqual([
      expect.objectContaining({ conversation_id: first, suppressed: 0 }),
      expect.objectContaining({ conversation_id: second, owner_address: deadAddress, suppressed: 4 }),
    ]);
  });

  test('HTTP requests: the same, with the conversation of the request', async () => {
    const { other, clock, deadAddress, first, second, warned } = await deadHolderPair();
    const HTTP_LINE = 'could not forward a request to its conversation server';
    for (let i = 0; i < 3; i++) expect(await getOnce(other, `/chat/conversations/${second}`, 'carol')).toBe(421);
    expect(await getOnce(other, `/chat/conversations/${first}/messages`, 'alice')).toBe(421);
    expect(warned(HTTP_LINE).map((l) => l.fields)).toEqual([
      { conversation_id: second, owner_address: deadAddress, err: expect.any(String), suppressed: 0 },
    ]);
    clock.advance(10_000);
    expect(await getOnce(other, `/chat/conversations/${first}`, 'alice')).toBe(421);
    expect(warned(HTTP_LINE).map((l) => l.fields)).toEqual([
      expect.objectContaining({ conversation_id: second, suppressed: 0 }),
      expect.objectContaining({ conversation_id: first, owner_address: deadAddress, suppressed: 3 }),
    ]);
  });
});
