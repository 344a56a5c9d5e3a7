/**
 * The HTTP half of `chat.ownership.forward` (owner-forwarding.ts is the WebSocket half): a request that failed
 * with CHAT_ERR_OWNED_ELSEWHERE naming the holder's address is sent again to the holder, and its answer is
 * returned as this server's. The holder authenticates the caller itself (the Authorization header and query go
 * along unchanged); a request already forwarded is never forwarded again (FORWARDED_BY_HEADER).
 *
 * The body was already parsed (express.json) before the conversation turned out to be held elsewhere, and every
 * body of this API is JSON, so it is sent re-serialised: the same value, perhaps not the same bytes.
 */
import type { NextFunction, Request, Response } from 'express';
import { isChatError } from '../actors/errors';
import { createLogThrottle } from '../observability/log-throttle';
import type { GatewayLogger, GatewayTelemetry } from './observability-hooks';
import { ownerAddressOf } from './http-error-answer';
import { FORWARDED_BY_HEADER, UNREACHABLE_LOG_INTERVAL_MS } from './owner-forwarding';

/**
 * Request headers the holder needs to answer as it would have answered the caller. X-User-Id is how a development
 * mode caller may name itself instead of `?user_id=` (authenticators.ts): without it the holder answered 401.
 */
const PASSED_REQUEST_HEADERS = ['authorization', 'accept', 'accept-language', 'user-agent', 'cookie', 'origin', 'x-user-id'];
/** Answer headers worth returning: what the API sets (Retry-After, Allow, WWW-Authenticate ...). */
const PASSED_ANSWER_HEADERS = ['content-type', 'retry-after', 'allow', 'www-authenticate', 'location'];

export interface OwnerHttpForwardingOptions {
  /** What FORWARDED_BY_HEADER says: this server's published address. */
  readonly selfName: string;
  /** How long the holder may take to answer before the caller gets the 421 it would have had. */
  readonly timeoutMs: number;
  /**
   * Whether to tell the holder the client's address (X-Forwarded-For). False under development authentication: the
   * holder's dev mode refuses proxied requests (authenticators.ts), and this server's own dev checks already passed
   * the request (a loopback caller, so the header would only ever say 127.0.0.1).
   */
  readonly forwardClientAddress: boolean;
  readonly logger: GatewayLogger;
  /** Counts forwards (nlweb_chat.ownership.forwards). */
  readonly telemetry: GatewayTelemetry;
  /** The gateway's clock (ms): paces the log line of a holder that cannot be reached, as owner-forwarding.ts does. */
  readonly now: () => number;
}

/** res.locals key of a request whose answer cannot be forwarded (keepFromForwarding). */
const NOT_FORWARDED = 'notForwarded';

/**
 * Marks a request whose 421 must be answered as it is, not forwarded: an event stream (sse-route.ts), since
 * forwarding reads the holder's whole answer before passing it on and a stream has no end. The client opens it on
 * the holder itself.
 */
export function keepFromForwarding(res: Response): void {
  res.locals[NOT_FORWARDED] = true;
}

/** An express error handler: forwards what it can, passes everything else on to the next one. */
export function createOwnerHttpForwarding(options: OwnerHttpForwardingOptions) {
  // Per holder address, not per conversation or request: see UNREACHABLE_LOG_INTERVAL_MS.
  const failureLines = createLogThrottle({ now: options.now, intervalMs: UNREACHABLE_LOG_INTERVAL_MS });
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    const owner = isChatError(err) ? ownerAddressOf(err) : undefined;
    if (owner === undefined || res.headersSent || req.headers[FORWARDED_BY_HEADER] !== undefined || res.locals[NOT_FORWARDED]) {
      next(err);
      return;
    }
    const target = holderUrl(owner, req.originalUrl);
    if (target === undefined) {
      // An address that is no URL to call: a forward that failed, as the WebSocket half counts it.
      options.telemetry.ownershipForward?.('http', false);
      next(err);
      return;
    }
    forward(req, res, target, options).then(
      () => options.telemetry.ownershipForward?.('http', true),
      (failure: unknown) => {
        options.telemetry.ownershipForward?.('http', false);
        const suppressed = failureLines.admit(owner);
        if (suppressed !== undefined) {
          options.logger.warn(
            {
              conversation_id: isChatError(err, 'CHAT_ERR_OWNED_ELSEWHERE') ? err.details.conversation_id : undefined,
              owner_address: owner,
              err: failure instanceof Error ? failure.message : String(failure),
              suppressed,
            },
            'could not forward a request to its conversation server',
          );
        }
        if (res.headersSent) res.destroy();
        else next(err);
      },
    );
  };
}

/**
 * An express error handler counting the 421s (CHAT_ERR_OWNED_ELSEWHERE) about to be answered, forwarding on or off;
 * mounted just before the error handler that answers them.
 */
export function countOwnershipRefusals(telemetry: GatewayTelemetry) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (isChatError(err, 'CHAT_ERR_OWNED_ELSEWHERE') && !res.headersSent) telemetry.ownershipRefused?.('http');
    next(err);
  };
}

async function forward(req: Request, res: Response, target: URL, options: OwnerHttpForwardingOptions): Promise<void> {
  const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: options.selfName };
  for (const name of PASSED_REQUEST_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter((v) => typeof v === 'string').join(', ');
  if (options.forwardClientAddress && forwardedFor !== '') headers['x-forwarded-for'] = forwardedFor;
  const hasBody = req.body !== undefined && req.method !== 'GET' && req.method !== 'HEAD' && Object.keys(req.body ?? {}).length > 0;
  if (hasBody) headers['content-type'] = 'application/json';
  const answer = await fetch(target, {
    method: req.method,
    headers,
    ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const body = Buffer.from(await answer.arrayBuffer());
  res.status(answer.status);
  for (const name of PASSED_ANSWER_HEADERS) {
    const value = answer.headers.get(name);
    if (value !== null) res.set(name, value);
  }
  res.end(body);
}

/** The holder's http(s) URL for the same path and query, or undefined for an address that is not a URL we can call. */
function holderUrl(ownerAddress: string, originalUrl: string): URL | undefined {
  let base: URL;
  try {
    base = new URL(ownerAddress);
  } catch {
    return undefined;
  }
  const scheme = { 'ws:': 'http:', 'http:': 'http:', 'wss:': 'https:', 'https:': 'https:' }[base.protocol];
  if (scheme === undefined) return undefined;
  return new URL(originalUrl, `${scheme}//${base.host}`);
}
