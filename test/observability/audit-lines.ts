import { Writable } from 'node:stream';
import { createHttpAuditMiddleware } from '../../observability/http-audit';
import { createAuditLog, createLogger, type AuditLog } from '../../observability/logger';
import type { HarnessOptions } from '../gateway/harness';

/** An audit log whose lines are kept, parsed, in `lines`; `extraRoutes` mounts its HTTP middleware as the binary does. */
export interface CapturedAudit {
  readonly audit: AuditLog;
  readonly lines: Array<Record<string, unknown>>;
  /** For startHarness: the audit (WebSocket refusals) and the HTTP audit middleware before the gateway. */
  readonly harnessOptions: Pick<HarnessOptions, 'audit' | 'extraRoutes'>;
  /** The lines of one event as [actor, target, details]. */
  events(event: string): unknown[][];
}

/** `now` is the audit log's clock (its 10 s throttle windows), the system clock when absent. */
export function captureAudit(now: () => number = Date.now, maxParticipants = 100): CapturedAudit {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const audit = createAuditLog(createLogger({ level: 'info', destination }), now);
  return {
    audit,
    lines,
    harnessOptions: { audit, extraRoutes: (app) => app.use(createHttpAuditMiddleware(audit, { maxParticipants })) },
    events: (event) => lines.filter((l) => l.event === event).map((l) => [l.actor, l.target, l.details]),
  };
}
