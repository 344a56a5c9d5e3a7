import { Writable } from 'node:stream';
import { createAuditLog, createLogger } from '../../observability/logger';

function memoryDestination(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes JSON lines at the configured level and never writes message content', () => {
    const dest = memoryDestination();
    const logger = createLogger({ level: 'info', destination: dest.stream });
    logger.debug('hidden');
    logger.info({ message: { content: 'secret text', sequence_id: 3 }, content: 'also secret' }, 'delivered');
    const lines = dest.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'delivered', service: 'nlweb-chat' });
    expect(JSON.stringify(lines[0])).not.toContain('secret');
    expect((lines[0].message as Record<string, unknown>).sequence_id).toBe(3);
    expect(typeof lines[0].time).toBe('string');
  });
});

describe('createAuditLog', () => {
  it('emits {audit, event, actor, target, outcome, at} for each security event', () => {
    const dest = memoryDestination();
    const logger = createLogger({ level: 'info', destination: dest.stream });
    const audit = createAuditLog(logger, () => Date.UTC(2026, 0, 2, 3, 4, 5));
    audit.authFailure('anonymous', '/chat/ws/c1', 'bad_signature');
    audit.forbidden('bob', 'c1', 'read');
    audit.participantLimit('carol', 'c1', 100);
    audit.redaction('alice', 'c1', 'success', 2);
    audit.adminAction('root', 'c1', 'delete', 'success');
    const lines = dest.lines();
    expect(lines.map((l) => l.event)).toEqual([
      'auth.failure',
      'access.forbidden',
      'participant_limit.refused',
      'message.redact',
      'admin.action',
    ]);
    for (const l of lines) expect(l.audit).toBe(true);
    expect(lines[0]).toMatchObject({
      actor: 'anonymous',
      target: '/chat/ws/c1',
      outcome: 'denied',
      at: '2026-01-02T03:04:05.000Z',
      level: 'warn',
    });
    expect(lines[3]).toMatchObject({ actor: 'alice', target: 'c1', outcome: 'success', level: 'info', details: { redacted: 2 } });
  });

  it('throttles rate-limit events per actor and conversation, counting the suppressed ones', () => {
    const dest = memoryDestination();
    let now = 0;
    const audit = createAuditLog(createLogger({ level: 'info', destination: dest.stream }), () => now, 1000);
    for (let i = 0; i < 50; i++) audit.rateLimited('mallory', 'c1');
    audit.rateLimited('eve', 'c1');
    now = 1500;
    audit.rateLimited('mallory', 'c1');
    const lines = dest.lines();
    expect(lines.map((l) => [l.actor, (l.details as Record<string, number>).suppressed])).toEqual([
      ['mallory', 0],
      ['eve', 0],
      ['mallory', 49],
    ]);
  });

  it('throttles auth failures per actor and reason, whatever the target, counting the suppressed ones', () => {
    const dest = memoryDestination();
    let now = 0;
    const audit = createAuditLog(createLogger({ level: 'info', destination: dest.stream }), () => now, 1000);
    // A flood of unauthenticated requests, each to another path: one line per interval, not one per request.
    for (let i = 0; i < 500; i++) audit.authFailure('anonymous', `/chat/ws/guess-${i}`, 'GATEWAY_ERR_UNAUTHENTICATED');
    audit.authFailure('anonymous', '/chat/conversations', 'GATEWAY_ERR_ORIGIN_NOT_ALLOWED');
    now = 1500;
    audit.authFailure('anonymous', '/chat/conversations', 'GATEWAY_ERR_UNAUTHENTICATED');
    const lines = dest.lines();
    expect(lines.map((l) => [l.target, l.details])).toEqual([
      ['/chat/ws/guess-0', { reason: 'GATEWAY_ERR_UNAUTHENTICATED', suppressed: 0 }],
      ['/chat/conversations', { reason: 'GATEWAY_ERR_ORIGIN_NOT_ALLOWED', suppressed: 0 }],
      ['/chat/conversations', { reason: 'GATEWAY_ERR_UNAUTHENTICATED', suppressed: 499 }],
    ]);
  });

  it('throttles forbidden access per actor and action, whatever the conversation, counting the suppressed ones', () => {
    const dest = memoryDestination();
    let now = 0;
    const audit = createAuditLog(createLogger({ level: 'info', destination: dest.stream }), () => now, 1000);
    // A member probing ids: each a 403 on another conversation, one line per interval.
    for (let i = 0; i < 300; i++) audit.forbidden('mallory', `guess-${i}`, 'GET /chat/conversations/{id}');
    audit.forbidden('mallory', 'c1', 'ws connect');
    audit.forbidden('eve', 'c1', 'GET /chat/conversations/{id}');
    now = 999;
    audit.forbidden('mallory', 'c2', 'GET /chat/conversations/{id}');
    now = 1000;
    audit.forbidden('mallory', 'c3', 'GET /chat/conversations/{id}');
    const lines = dest.lines();
    expect(lines.map((l) => [l.event, l.actor, l.target, l.details])).toEqual([
      ['access.forbidden', 'mallory', 'guess-0', { action: 'GET /chat/conversations/{id}', suppressed: 0 }],
      ['access.forbidden', 'mallory', 'c1', { action: 'ws connect', suppressed: 0 }],
      ['access.forbidden', 'eve', 'c1', { action: 'GET /chat/conversations/{id}', suppressed: 0 }],
      ['access.forbidden', 'mallory', 'c3', { action: 'GET /chat/conversations/{id}', suppressed: 300 }],
    ]);
  });
});
