import { createManualClock } from '../../actors/clock';
import { contentProblem } from '../../gateway/content-validation';
import { isLoopbackAddress } from '../../gateway/net-utils';
import { DeliveryProgress } from '../../gateway/delivery-progress';
import { CLIENT_FRAME_TYPES } from '../../gateway/protocol/client-frames';
import { createFrameValidator } from '../../gateway/protocol/frame-validator';
import { SERVER_FRAME_TYPES, type ConnectedFrame, type ServerFrame } from '../../gateway/protocol/server-frames';
import { createRateLimiter } from '../../gateway/rate-limiter';
import { closeAll, startHarness } from './harness';
import { FrameWriter } from '../../gateway/frame-writer';

afterEach(() => closeAll());

const participant = {
  participant_id: 'alice',
  participant_type: 'human',
  display_name: 'Alice',
  joined_at_sequence: 1,
  role: 'owner',
} as const;
const message = {
  message_id: 'm1',
  conversation_id: 'c1',
  sequence_id: 3,
  sender_id: 'alice',
  sender_type: 'human',
  message_type: 'text',
  content: 'hi',
  timestamp: '2026-01-01T00:00:00.000Z',
  metadata: {},
} as const;

describe('protocol schemas', () => {
  const validator = createFrameValidator();

  test('one sample of every server frame type validates; a stray field does not', () => {
    const samples: ServerFrame[] = [
      {
        type: 'connected',
        protocol_version: 1,
        conversation_id: 'c1',
        participant_id: 'alice',
        mode: 'single',
        input_timeout: 100,
        last_sequence_id: 0,
        connection_id: 'k',
        server_time: '2026-01-01T00:00:00.000Z',
      },
      { type: 'participant_list', participants: [participant], mode: 'single', online: ['alice'], read_positions: { alice: 1 } },
      { type: 'participant_update', action: 'join', participant, participant_count: 1 },
      { type: 'message', message },
      { type: 'message_ack', message_id: 'm1', sequence_id: 3, persisted: false, duplicate: false },
      { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: true, sequence_id: 5, edit_count: 1 },
      { type: 'mode_change', mode: 'multi', sequence_id: 4 },
      { type: 'typing', participant_id: 'bob', is_typing: true },
      { type: 'presence', participant_id: 'bob', online: false },
      { type: 'presence_batch', changes: { bob: false, carol: true } },
      { type: 'read', participant_id: 'bob', sequence_id: 3 },
      { type: 'read_batch', positions: { bob: 3, carol: 5 } },
      { type: 'sync_complete', from: 1, to: 3, recovered: true },
      { type: 'error', error: 'CHAT_ERR_QUEUE_FULL', code: 429, message: 'full', retry_after_ms: 100, message_id: 'm1' },
      { type: 'pong', server_time: '2026-01-01T00:00:00.000Z', ts: 5 },
      { type: 'reset', after: 3, last_sequence_id: 9 },
    ];
    expect(samples.map((s) => s.type).sort()).toEqual([...SERVER_FRAME_TYPES].sort());
    // `connected` with the server's limits (sent since they were added) and without (older servers): both valid.
    samples.push({
      ...(samples[0] as ConnectedFrame),
      limits: { max_frame_bytes: 65_536, max_message_length: 10_000, max_metadata_bytes: 0 },
    });
    for (const s of samples) {
      expect(validator.server(s)).toEqual({ ok: true, frame: s });
      expect(validator.server({ ...s, surprise: 1 }).ok).toBe(false);
    }
  });

  test('connected.limits: three whole numbers and the message budget as a pair (optional: older servers), no other field', () => {
    const connected: ConnectedFrame = {
      type: 'connected',
      protocol_version: 1,
      conversation_id: 'c1',
      participant_id: 'alice',
      mode: 'multi',
      input_timeout: 0,
      last_sequence_id: 0,
      connection_id: 'k',
      server_time: '2026-01-01T00:00:00.000Z',
    };
    const limits = { max_frame_bytes: 2048, max_message_length: 500, max_metadata_bytes: 8192 };
    expect(validator.server(connected).ok).toBe(true);
    // A presence batch names at least one member, each with a boolean.
    expect(validator.server({ type: 'presence_batch', changes: {} }).ok).toBe(false);
    expect(validator.server({ type: 'presence_batch', changes: { bob: 'online' } }).ok).toBe(false);
    expect(validator.server({ type: 'presence_batch', changes: { '': true } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits }).ok).toBe(true);
    expect(validator.server({ ...connected, limits: { ...limits, max_frame_bytes: undefined } })).toEqual({
      ok: false,
      message: 'connected frame: missing field "max_frame_bytes"',
    });
    expect(validator.server({ ...connected, limits: { ...limits, max_message_length: 1.5 } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits: { ...limits, max_frame_bytes: 0 } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits: { ...limits, extra: 1 } })).toEqual({
      ok: false,
      message: 'connected frame: unknown field "extra"',
    });
    const budget = { rate_limit_per_second: 0.5, rate_limit_burst: 3 };
    expect(validator.server({ ...connected, limits: { ...limits, ...budget } }).ok).toBe(true);
    expect(validator.server({ ...connected, limits: { ...limits, ...budget, rate_limit_per_second: 0 } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits: { ...limits, ...budget, rate_limit_burst: 1.5 } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits: { ...limits, ...budget, rate_limit_burst: 0 } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits: { ...limits, rate_limit_per_second: 2 } }).ok).toBe(false);
    expect(validator.server({ ...connected, limits: { ...limits, rate_limit_burst: 2 } }).ok).toBe(false);
  });

  test('change_ack: a record id only when changed, an edit count only (and always) answering an edit', () => {
    const ok = [
      { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: false, edit_count: 0 },
      { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: true, sequence_id: 7, edit_count: 2 },
      // Changed, yet no id: the record was held while the conversation restarted after a crash.
      { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: true, edit_count: 2 },
      { type: 'change_ack', reply_to: 'delete', message_id: 'm1', changed: true, sequence_id: 7 },
      { type: 'change_ack', reply_to: 'delete', message_id: 'm1', changed: false },
    ];
    for (const f of ok) expect(validator.server(f)).toEqual({ ok: true, frame: f });
    const bad = [
      { type: 'change_ack', reply_to: 'delete', message_id: 'm1', changed: false, sequence_id: 7 },
      { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: false, sequence_id: 7, edit_count: 1 },
      { type: 'change_ack', reply_to: 'edit', message_id: 'm1', changed: true, sequence_id: 7 },
      { type: 'change_ack', reply_to: 'delete', message_id: 'm1', changed: true, sequence_id: 7, edit_count: 1 },
      { type: 'change_ack', reply_to: 'message', message_id: 'm1', changed: true, sequence_id: 7 },
      { type: 'change_ack', reply_to: 'delete', message_id: '', changed: false },
      { type: 'change_ack', reply_to: 'delete', message_id: 'm1', changed: true, sequence_id: 0 },
      { type: 'change_ack', reply_to: 'delete', message_id: 'm1' },
    ];
    for (const f of bad) expect([f, validator.server(f).ok]).toEqual([f, false]);
  });

  test('client frames: every type has a schema, required fields are enforced', () => {
    expect([...CLIENT_FRAME_TYPES].sort()).toEqual([
      'ack',
      'delete',
      'edit',
      'leave',
      'message',
      'options',
      'ping',
      'read',
      'sync',
      'typing',
    ]);
    expect(validator.client({ type: 'options', read_batches: true }).ok).toBe(true);
    // An opt-in only: a socket that took batches keeps them.
    expect(validator.client({ type: 'options', read_batches: false }).ok).toBe(false);
    expect(validator.client({ type: 'read', sequence_id: 4 }).ok).toBe(true);
    expect(validator.client({ type: 'read', sequence_id: -1 }).ok).toBe(false);
    expect(validator.client({ type: 'read' })).toEqual({ ok: false, message: 'read frame: missing field "sequence_id"' });
    expect(validator.client({ type: 'leave' }).ok).toBe(true);
    expect(validator.client({ type: 'ping' }).ok).toBe(true);
    expect(validator.client({ type: 'message', message_id: 'a', content: 'b', metadata: { x: 1 } }).ok).toBe(true);
    expect(validator.client({ type: 'sync', last_sequence_id: 1.5 })).toEqual({ ok: false, message: expect.stringMatching(/integer/) });
    expect(validator.client({ type: 'ack' })).toEqual({ ok: false, message: 'ack frame: missing field "sequence_id"' });
    expect(validator.client(null)).toEqual({ ok: false, message: 'frame must be a JSON object' });
  });
});

describe('gateway helpers', () => {
  test('content validation', () => {
    expect(contentProblem('hello\nworld\t!\r\n', 100)).toBeUndefined();
    expect(contentProblem('', 100)).toMatch(/empty/);
    expect(contentProblem('   ', 100)).toMatch(/empty/);
    expect(contentProblem('abcd', 3)).toMatch(/longer/);
    expect(contentProblem('a\u001bb', 100)).toMatch(/control/);
    expect(contentProblem('a\u0085b', 100)).toMatch(/control/);
    expect(contentProblem('emoji 🎉 and ünïcode', 100)).toBeUndefined();
  });

  test('token bucket: burst, refill by the clock, retry hint, sweep', () => {
    const clock = createManualClock();
    const limiter = createRateLimiter({ perSecond: 4, burst: 2, clock });
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 250 });
    expect(limiter.take('b')).toEqual({ ok: true });
    clock.advance(100);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterMs: 150 });
    clock.advance(150);
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.size()).toBe(2);
    clock.advance(500);
    limiter.sweep();
    expect(limiter.size()).toBe(0);
  });

  test('loopback detection', () => {
    for (const a of ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1', 'localhost', '[::1]']) expect(isLoopbackAddress(a)).toBe(true);
    for (const a of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', '128.0.0.1', undefined, '']) expect(isLoopbackAddress(a)).toBe(false);
  });
});

describe('broadcast serialisation', () => {
  test('a message frame is serialised once, however many connections receive it', async () => {
    const h = await startHarness();
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    const conv = await h.createConversation('u1', users.slice(1));
    const clients = await Promise.all(users.map((u) => h.connect(conv, u)));
    // The message frame is written by the gateway's FrameWriter (frame-writer.ts): count how often it is built for this record.
    const serialise = jest.spyOn(FrameWriter.prototype, 'message');
    try {
      clients[0].send({ type: 'message', message_id: 'once', content: 'fan out' });
      await Promise.all(clients.map((c) => c.waitFor('message', (f) => f.message.message_id === 'once')));
      expect(serialise.mock.calls.filter(([m]) => m.message_id === 'once')).toHaveLength(1);
    } finally {
      serialise.mockRestore();
    }
  });
});

describe('DeliveryProgress', () => {
  test('records acks up to what the client can hold: the last id at connect, or a later one sent', () => {
    const progress = new DeliveryProgress(5);
    expect(progress.acked(3)).toBeUndefined();
    expect(progress.acked(9)).toBe('ack 9 is past the last record this connection has seen (5)');
    expect(progress.lastAckedSequenceId).toBe(3);
    progress.sent(9);
    expect(progress.acked(9)).toBeUndefined();
    expect(progress.acked(4)).toBeUndefined();
    expect([progress.lastSentSequenceId, progress.lastAckedSequenceId]).toEqual([9, 9]);
  });
});
