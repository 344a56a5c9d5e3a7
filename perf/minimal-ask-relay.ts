/**
 * The floor of the primary-path benchmark: the least any chat server can do to put a human's message in
 * front of NLWeb and stream the answer back. One WebSocket per human; each `message` frame becomes a POST
 * /ask on one keep-alive socket (same parameters as the agent sends: the socket's earlier queries as `prev`),
 * and each SSE `result` / the end message goes back as one frame shaped like our `message` frame, so the
 * benchmark's human client reads both servers alike. No sequencing, journal, membership, validation,
 * acks or echo: what is left is the two extra process hops (human → relay, relay → human) and an HTTP
 * client's request and stream parsing. (b) over this (c) is what the runtime itself adds; (c) over the
 * direct call (a) is what the design's extra hop costs before any chat code runs.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { postPlainAsk } from './plain-ask-call';

export interface MinimalAskRelay {
  readonly url: string;
  close(): Promise<void>;
}

/** Earlier queries kept as `prev`, like the agent's `chat.context.human_messages` minus the current one. */
const PREV_QUERIES = 4;

export async function startMinimalAskRelay(nlwebUrl: string): Promise<MinimalAskRelay> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  let asked = 0;
  wss.on('connection', (socket, req) => {
    const userId = new URL(req.url ?? '/', 'http://relay').searchParams.get('user_id') ?? 'anonymous';
    const prev: string[] = [];
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { message_id: string; content: string };
      ask(socket, frame, userId, prev.slice(-PREV_QUERIES));
      prev.push(frame.content);
    });
  });

  function ask(socket: WebSocket, frame: { message_id: string; content: string }, userId: string, prev: readonly string[]): void {
    const forward = (items: unknown, complete: boolean): void =>
      socket.send(
        JSON.stringify({
          type: 'message',
          message: { sender_type: 'ai', message_type: 'nlweb_response', metadata: { in_reply_to: frame.message_id, items, complete } },
        }),
      );
    const plain = { query: frame.content, prev, conversationId: 'relay', queryId: `relay-${++asked}`, userId };
    postPlainAsk(
      agent,
      nlwebUrl,
      plain,
      (message) => {
        if (message.message_type === 'result') forward(message.content, false);
        if (message.message_type === 'end-nlweb-response') forward([], true);
      },
      (err) => socket.close(1011, err.message.slice(0, 100)),
    );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const client of wss.clients) client.terminate();
      agent.destroy();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
