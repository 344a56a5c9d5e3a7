import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock } from '../actors/clock';
import { ERROR_CODES, type ChatError, type ErrorCode } from '../actors/errors';
import { TOKEN_EXPIRED } from './authenticators';
import { GracefulClose } from './graceful-close';
import { httpErrorAnswer, ownerAddressOf, supportedVersionsOf } from './http-error-answer';
import type { GatewayLogger } from './observability-hooks';

/**
 * The WebSocket subprotocol a client offers to learn why an upgrade was refused. Browsers report a
 * refused upgrade only as close 1006 (they hide the HTTP status), so a browser client could not tell a
 * wrong token from a network drop; offering this subprotocol asks for the refusal as a close code.
 */
export const REFUSAL_SUBPROTOCOL = 'nlweb-chat.refusals';

/**
 * Refuses an upgrade with a plain HTTP answer, the one the HTTP API gives the same error (http-error-answer.ts:
 * status, JSON body, Retry-After, owner_address ...), then drops the socket.
 */
export function rejectUpgrade(socket: Duplex, err: ChatError): void {
  if (socket.destroyed) return;
  const answer = httpErrorAnswer(err);
  const body = JSON.stringify(answer.body);
  const lines = [
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  for (const [name, value] of Object.entries(answer.headers)) lines.push(`${name}: ${value}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

/** Whether the upgrade request offers REFUSAL_SUBPROTOCOL. */
export function offersRefusalSubprotocol(req: IncomingMessage): boolean {
  return offersSubprotocol(req, REFUSAL_SUBPROTOCOL);
}

/**
 * The subprotocol a client offers to get the room's presence changes as one `presence_batch` frame per interval
 * instead of a `presence` frame per member (docs/protocol.md, Presence). An offer, not a choice: the server selects
 * REFUSAL_SUBPROTOCOL when that is offered too, and a server before batches ignores it and sends `presence` frames,
 * where an unknown query parameter would have had the upgrade refused. So it is known at the upgrade, before the
 * socket's first frame: a connect storm, which an opt-in sent after `connected` came too late for, is covered.
 */
export const PRESENCE_BATCHES_SUBPROTOCOL = 'nlweb-chat.presence-batches';

/** Whether the upgrade request offers `name` (Sec-WebSocket-Protocol is a comma-separated list). */
export function offersSubprotocol(req: IncomingMessage, name: string): boolean {
  const header = req.headers['sec-websocket-protocol'];
  return header !== undefined && header.split(',').some((p) => p.trim() === name);
}

/**
 * `ws` handleProtocols of accepted connections. A `ws` client that offered subprotocols fails the
 * handshake unless the server selects one, so a client offering REFUSAL_SUBPROTOCOL gets it selected
 * on success too; any other offer gets what `ws` selects without the hook (the first one), as before.
 */
export function selectSubprotocol(protocols: ReadonlySet<string>): string | false {
  if (protocols.has(REFUSAL_SUBPROTOCOL)) return REFUSAL_SUBPROTOCOL;
  const first = protocols.values().next();
  return first.done === true ? false : first.value;
}

/** A close frame's reason holds at most 123 bytes (RFC 6455 5.5: control frame payload ≤ 125, 2 for the code). */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * The close reason of a socket closed, or an upgrade refused on the subprotocol path, because its token expired
 * (close 4001): a client that can fetch a fresh token reconnects on it, where a bare 4001 (a wrong token) is final.
 */
export const TOKEN_EXPIRED_CLOSE_REASON = `GATEWAY_ERR_UNAUTHENTICATED ${TOKEN_EXPIRED}`;

/**
 * The close reason of a refusal on the subprotocol path: the error code, then for CHAT_ERR_OWNED_ELSEWHERE a
 * space and the owner's address when it fits (a longer address is left out: the code alone still says retry),
 * and TOKEN_EXPIRED_CLOSE_REASON for an expired token.
 */
export function refusalCloseReason(err: ChatError): string {
  if (err.code === 'GATEWAY_ERR_UNAUTHENTICATED' && err.message === TOKEN_EXPIRED) return TOKEN_EXPIRED_CLOSE_REASON;
  // The versions this server speaks, space-separated after the code: a browser learns them from the close alone.
  if (err.code === 'GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION')
    return cutReason(`${err.code} ${supportedVersionsOf(err).join(' ')}`, err.code);
  const owner = ownerAddressOf(err);
  if (owner === undefined) return err.code;
  return cutReason(`${err.code} ${owner}`, err.code);
}

/** `reason` when it fits a close frame, else `fallback` (the code alone). */
function cutReason(reason: string, fallback: string): string {
  return Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES ? reason : fallback;
}

/** Close codes of refusals whose error code names none: the ones the reference client maps HTTP statuses to. */
const CLOSE_BY_STATUS: Readonly<Record<number, number>> = { 400: 1008, 401: 4001, 403: 4003, 404: 4004, 409: 4009, 426: 4026 };
/** Anything else (429, 5xx without a close code of its own) may pass later: "try again later". */
const CLOSE_TRY_AGAIN_LATER = 1013;

/** The close code a refusal is sent as on the subprotocol path (docs/protocol.md, "Connecting"). */
export function refusalCloseCode(code: ErrorCode): number {
  const spec: { http: number; close?: number } = ERROR_CODES[code];
  return spec.close ?? CLOSE_BY_STATUS[spec.http] ?? CLOSE_TRY_AGAIN_LATER;
}

/** Refuses upgrades the way the client asked for: plain HTTP, or a coded close on REFUSAL_SUBPROTOCOL. */
export interface UpgradeRefuser {
  /**
   * Without the subprotocol: rejectUpgrade. With it: completes the handshake selecting the subprotocol
   * only to send one close frame (close code of `err`'s code, refusalCloseReason as the reason), and terminates
   * the socket if the peer does not answer the close within the grace time.
   */
  refuse(req: IncomingMessage, socket: Duplex, head: Buffer, err: ChatError): void;
  /** Terminates every refused socket still waiting for its close handshake (gateway shutdown). */
  terminateAll(): void;
}

export interface UpgradeRefuserOptions {
  /** The gateway's clock: the termination timer runs on it. */
  readonly clock: Clock;
  /** How long a refused peer may take to answer the close frame. */
  readonly graceMs: number;
  readonly logger: GatewayLogger;
}

/** The largest frame a refused socket may receive: a close frame's payload (2-byte code + 123-byte reason). */
const REFUSED_MAX_PAYLOAD = 125;

export function createUpgradeRefuser(options: UpgradeRefuserOptions): UpgradeRefuser {
  const { clock, graceMs, logger } = options;
  // A `ws` server of its own rather than the gateway's: it only ever selects the refusal subprotocol,
  // and its tiny maxPayload cuts off a refused peer that sends anything bigger than a close frame
  // (nothing it sends is dispatched; ws parses its bytes only to see the close answer). It tracks no
  // clients and listens on nothing, so there is nothing to close with the gateway.
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: REFUSED_MAX_PAYLOAD,
    handleProtocols: () => REFUSAL_SUBPROTOCOL,
  });
  const pending = new Set<WebSocket>();
  /** Set by terminateAll: refusals decided later (their upgrade was still authenticating) do not wait for an answer. */
  let stopped = false;

  function closeRefused(ws: WebSocket, socket: Duplex, err: ChatError): void {
    const { code } = err;
    const reason = refusalCloseReason(err);
    // An error event without a listener would throw; the close that follows cleans up.
    ws.on('error', (err) => logger.debug({ err: err.message, error: code }, 'refused websocket error'));
    if (stopped) {
      // The gateway has shut down and nobody would terminate this socket later: the close frame goes out,
      // then the socket ends and is destroyed once that is written, answered or not.
      ws.close(refusalCloseCode(code), reason);
      const tcp = socket as Duplex & { destroySoon?: () => void };
      if (typeof tcp.destroySoon === 'function') tcp.destroySoon();
      else socket.end();
      return;
    }
    pending.add(ws);
    const closer = new GracefulClose(ws, clock);
    ws.once('close', () => {
      closer.finished();
      pending.delete(ws);
    });
    closer.closeWith(refusalCloseCode(code), reason, graceMs);
  }

  return {
    refuse(req, socket, head, refusal) {
      const { code } = refusal;
      if (!offersRefusalSubprotocol(req)) return rejectUpgrade(socket, refusal);
      if (socket.destroyed) return;
      try {
        // ws answers an invalid handshake (bad key or version) itself with HTTP 400 and no callback.
        wss.handleUpgrade(req, socket, head, (ws) => closeRefused(ws, socket, refusal));
      } catch (err) {
        // ws throws only for a socket it has already upgraded (a failure after the handshake): drop it.
        logger.debug({ err: err instanceof Error ? err.message : String(err), error: code }, 'could not refuse an upgraded socket');
        socket.destroy();
      }
    },
    terminateAll() {
      stopped = true;
      for (const ws of pending) ws.terminate();
    },
  };
}
