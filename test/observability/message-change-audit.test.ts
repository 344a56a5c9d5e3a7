/**
 * A member's edit and delete of its own message are audit events (docs/observability.md, Audit events): `message.edit`
 * (message id, sequence id, edit count) and `message.redact` with the member as actor, over WebSocket frames and HTTP
 * alike. One line per change; none for the same content again or a refusal; never the content. Real server on 127.0.0.1 port 0, real sockets, the memory store.
 */
import { closeAll, startHarness } from '../gateway/harness';
import { captureAudit } from './audit-lines';
import type { AuditLog } from '../../observability/logger';

afterEach(closeAll);

/** The captured audit, plus a promise per event that resolves when its nth line is written (no polling, no sleeps). */
function auditWithWaits(): { captured: ReturnType<typeof captureAudit>; lineOf(event: string, nth: number): Promise<void> } {
  const captured = captureAudit();
  const waiters: Array<{ event: string; nth: number; resolve: () => void }> = [];
  const settle = (): void => {
    for (const w of [...waiters]) {
      if (captured.events(w.event).length >= w.nth) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  const audit = captured.audit;
  const wrapped: AuditLog = {
    ...audit,
    redaction: (...args) => {
      audit.redaction(...args);
      settle();
    },
    messageEdit: (...args) => {
      audit.messageEdit(...args);
      settle();
    },
  };
  Object.assign(captured.harnessOptions, { audit: wrapped });
  return {
    captured,
    lineOf: (event, nth) =>
      new Promise<void>((resolve) => {
        waiters.push({ event, nth, resolve });
        settle();
      }),
  };
}

test('WebSocket edit and delete frames: one message.edit / message.redact line per change, none for no-ops or refusals, no content', async () => {
  const { captured, lineOf } = auditWithWaits();
  const h = await startHarness({}, captured.harnessOptions);
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  alice.send({ type: 'message', message_id: 'm1', content: 'first words' });
  alice.send({ type: 'message', message_id: 'm2', content: 'other words' });
  const m1 = (await bob.waitFor('message', (f) => f.message.message_id === 'm1')).message.sequence_id;
  const m2 = (await bob.waitFor('message', (f) => f.message.message_id === 'm2')).message.sequence_id;

  alice.send({ type: 'edit', message_id: 'm1', content: 'secret edit one' });
  await lineOf('message.edit', 1);
  // Refused (not bob's message) and a no-op (the same content again): no line. The edits of one conversation run one
  // at a time, so once the next edit's line is written these two are done.
  bob.send({ type: 'edit', message_id: 'm1', content: 'secret by bob' });
  await bob.waitFor('error', (e) => e.reply_to === 'edit');
  alice.send({ type: 'edit', message_id: 'm1', content: 'secret edit one' });
  alice.send({ type: 'edit', message_id: 'm1', content: 'secret edit two' });
  await lineOf('message.edit', 2);
  expect(captured.events('message.edit')).toEqual([
    ['alice', conv, { message_id: 'm1', sequence_id: m1, edit_count: 1 }],
    ['alice', conv, { message_id: 'm1', sequence_id: m1, edit_count: 2 }],
  ]);

  alice.send({ type: 'delete', message_id: 'm2' });
  await lineOf('message.redact', 1);
  bob.send({ type: 'delete', message_id: 'm2' });
  await bob.waitFor('error', (e) => e.reply_to === 'delete');
  // The edited m1 goes with its two edit records.
  alice.send({ type: 'delete', message_id: 'm1' });
  await lineOf('message.redact', 2);
  expect(captured.events('message.redact')).toEqual([
    ['alice', conv, { redacted: 1 }],
    ['alice', conv, { redacted: 3 }],
  ]);
  expect(m2).toBeGreaterThan(m1);
  expect(JSON.stringify(captured.lines)).not.toMatch(/secret|words/);
});

test('HTTP POST .../edit by a member: one message.edit line per change, none for the same content again or a refusal, no content', async () => {
  const { captured } = auditWithWaits();
  const h = await startHarness({}, captured.harnessOptions);
  const conv = await h.createConversation('alice', ['bob']);
  const posted = await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'first words' });
  expect(posted.status).toBe(201);
  const b1 = posted.body.sequence_id as number;

  const edit = (userId: string, content: string) =>
    h.request('POST', `/chat/conversations/${conv}/edit`, userId, { message_id: 'b1', content });
  expect((await edit('bob', 'secret edit one')).body.changed).toBe(true);
  expect((await edit('bob', 'secret edit one')).body.changed).toBe(false);
  expect((await edit('alice', 'secret by alice')).status).toBe(403);
  expect((await edit('bob', 'secret edit two')).body.changed).toBe(true);

  expect(captured.events('message.edit')).toEqual([
    ['bob', conv, { message_id: 'b1', sequence_id: b1, edit_count: 1 }],
    ['bob', conv, { message_id: 'b1', sequence_id: b1, edit_count: 2 }],
  ]);
  expect(captured.lines.find((l) => l.event === 'message.edit')).toMatchObject({ audit: true, outcome: 'success' });

  // A member's delete over HTTP is the message.redact the owner's redaction is, with the member as actor.
  expect((await h.request('POST', `/chat/conversations/${conv}/redact`, 'bob', { message_ids: ['b1'] })).status).toBe(200);
  expect(captured.events('message.redact')).toEqual([['bob', conv, { redacted: 3 }]]);
  expect(JSON.stringify(captured.lines)).not.toMatch(/secret|words/);
});
