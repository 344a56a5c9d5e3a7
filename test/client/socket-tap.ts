/**
 * For the chat page's browser tests: the page's chat sockets pass through Playwright's WebSocket routing, which
 * forwards every frame between the page and the real server unless the test says otherwise: hold the page's
 * `message` frames (as a network that has not delivered them yet), drop whatever the server sends (a message lands,
 * and neither its ack nor its record reaches the page), or answer the next `message` frame with an error frame in the server's shape
 * instead of passing it on.
 */
import type { Page, WebSocketRoute } from 'playwright-core';

export interface SocketTap {
  /** While true, the page's `message` frames are held on their socket (release() sends them on). */
  holdSends: boolean;
  /** While true, every frame the server sends is dropped. */
  deaf: boolean;
  /** The next `message` frame is answered with this error frame (its message_id added) and not passed on. */
  refuseNext: { readonly error: string; readonly code: number; readonly message: string } | undefined;
  /** Sends the frames held on the latest socket to the server; those of sockets closed since never left. */
  release(): void;
  /** `message` frames the server was sent, by message_id. */
  readonly forwarded: string[];
}

const typeOf = (data: string | Buffer): string | undefined => {
  if (typeof data !== 'string') return undefined;
  try {
    return (JSON.parse(data) as { type?: string }).type;
  } catch {
    return undefined;
  }
};

/** Routes the page's sockets to `/chat/ws/...` through a tap; call before the page opens one. */
export async function tapChatSockets(page: Page): Promise<SocketTap> {
  let latest: { server: WebSocketRoute; held: string[] } | undefined;
  const tap: SocketTap = {
    holdSends: false,
    deaf: false,
    refuseNext: undefined,
    forwarded: [],
    release() {
      const socket = latest;
      if (!socket) return;
      for (const frame of socket.held.splice(0)) forward(socket.server, frame);
    },
  };
  const forward = (server: WebSocketRoute, frame: string): void => {
    tap.forwarded.push((JSON.parse(frame) as { message_id: string }).message_id);
    server.send(frame);
  };
  await page.routeWebSocket(/\/chat\/ws\//, (ws) => {
    const server = ws.connectToServer();
    const socket = { server, held: [] as string[] };
    latest = socket;
    ws.onMessage((data) => {
      if (typeOf(data) !== 'message') return server.send(data);
      const frame = data as string;
      const refusal = tap.refuseNext;
      if (refusal) {
        tap.refuseNext = undefined;
        const { message_id } = JSON.parse(frame) as { message_id: string };
        return ws.send(JSON.stringify({ type: 'error', ...refusal, message_id }));
      }
      if (tap.holdSends) return void socket.held.push(frame);
      forward(server, frame);
    });
    server.onMessage((data) => {
      if (!tap.deaf) ws.send(data);
    });
  });
  return tap;
}
