/**
 * A tiny real `ws` server the client unit tests script by hand: every connection's URL and frames
 * are recorded, and the test decides what the "server" answers and when it closes.
 */
import { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface ScriptedConnection {
  readonly url: URL;
  readonly ws: WebSocket;
  /** Every frame received, parsed. */
  readonly frames: Record<string, unknown>[];
  send(frame: unknown): void;
  /** Resolves with the next received frame matching `pred` (already received ones count). */
  nextFrame(pred: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(code: number, reason?: string): Promise<void>;
}

export interface ScriptedServer {
  readonly port: number;
  readonly url: string;
  readonly connections: ScriptedConnection[];
  /** Resolves with the n-th connection (0-based) once it is open. */
  connection(n: number): Promise<ScriptedConnection>;
  close(): Promise<void>;
}

export async function startScriptedServer(): Promise<ScriptedServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  const connections: ScriptedConnection[] = [];
  const waiters = new Map<number, ((c: ScriptedConnection) => void)[]>();

  wss.on('connection', (ws, req) => {
    const frames: Record<string, unknown>[] = [];
    const frameWaiters: { pred: (f: Record<string, unknown>) => boolean; resolve: (f: Record<string, unknown>) => void; from: number }[] =
      [];
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Record<string, unknown>;
      frames.push(f);
      for (const w of [...frameWaiters]) {
        if (w.pred(f)) {
          frameWaiters.splice(frameWaiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    });
    const conn: ScriptedConnection = {
      url: new URL(req.url ?? '/', `http://127.0.0.1:${port}`),
      ws,
      frames,
      send: (frame) => ws.send(JSON.stringify(frame)),
      nextFrame(pred) {
        const found = frames.find(pred);
        if (found) return Promise.resolve(found);
        return new Promise((resolve) => frameWaiters.push({ pred, resolve, from: frames.length }));
      },
      close(code, reason) {
        return new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          ws.close(code, reason);
        });
      },
    };
    const n = connections.push(conn) - 1;
    for (const w of waiters.get(n) ?? []) w(conn);
    waiters.delete(n);
  });

  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    connections,
    connection(n) {
      const c = connections[n];
      if (c) return Promise.resolve(c);
      return new Promise((resolve) => {
        const list = waiters.get(n) ?? [];
        list.push(resolve);
        waiters.set(n, list);
      });
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A `connected` frame as the gateway sends it. */
export function connectedFrame(lastSequenceId: number, participantId = 'alice', conversationId = 'c1'): Record<string, unknown> {
  return {
    type: 'connected',
    conversation_id: conversationId,
    participant_id: participantId,
    mode: 'single',
    input_timeout: 100,
    last_sequence_id: lastSequenceId,
    connection_id: 'conn-1',
    server_time: new Date(0).toISOString(),
  };
}

/** A `message` frame carrying a record with sequence id `seq`. */
export function messageFrame(
  seq: number,
  extra: { sender_id?: string; message_id?: string; content?: string } = {},
): Record<string, unknown> {
  return {
    type: 'message',
    message: {
      message_id: extra.message_id ?? `m${seq}`,
      conversation_id: 'c1',
      sequence_id: seq,
      sender_id: extra.sender_id ?? 'bob',
      sender_type: 'human',
      message_type: 'text',
      content: extra.content ?? `msg ${seq}`,
      timestamp: new Date(0).toISOString(),
      metadata: {},
    },
  };
}
