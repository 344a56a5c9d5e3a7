/**
 * Shared helpers for the benchmarks in perf/: percentiles, a plain-text table, a description of the
 * machine, writing one section of docs/benchmarks.md without touching the others, and the chat server the
 * WebSocket benchmarks measure.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createChatRuntime, type ChatRuntime } from '../actors';
import { loadConfig, type ConfigInput } from '../config';
import { createChatServer } from '../gateway';
import { MemoryStore } from '../storage-providers';

/** The p-th percentile (0..100) of `values` (nearest-rank on a sorted copy); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Renders rows as a markdown table (also readable on a terminal). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** One line describing where the numbers were measured. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus.length} x ${model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/**
 * Replaces (or appends) the section that starts with `heading` (a full markdown heading line such
 * as "## Gateway") in the file, keeping every other section. The file is re-read right before
 * writing because other benchmarks write their own sections of it.
 */
export function writeDocSection(path: string, heading: string, body: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const level = /^#+/.exec(heading)?.[0].length ?? 2;
  const lines = current.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading.trim());
  const section = `${heading}\n\n${body.trim()}\n`;
  let next: string;
  if (start < 0) {
    next = `${current.trimEnd()}\n\n${section}`;
  } else {
    let end = lines.length;
    for (let i = start + 1; i < lines.length; i++) {
      const m = /^(#+)\s/.exec(lines[i]!);
      if (m && m[1]!.length <= level) {
        end = i;
        break;
      }
    }
    const before = lines.slice(0, start).join('\n').trimEnd();
    const after = lines.slice(end).join('\n').trim();
    next = `${before ? `${before}\n\n` : ''}${section}${after ? `\n${after}\n` : ''}`;
  }
  writeFileSync(path, next.endsWith('\n') ? next : `${next}\n`);
}

/** Formats a number with `digits` significant decimals. */
export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n >= 100 ? n.toFixed(0) : n.toFixed(digits);
}

/** A benchmark client that sends text and hands each message it receives to `onContent`. */
export interface ContentConnection {
  send(content: string): void;
  onContent: (content: string) => void;
}

/**
 * The throughput workload shared by the gateway and observability benchmarks: every connection (in
 * 2-person rooms) sends `perSender` messages, keeping at most `window` of its own in flight (one more
 * goes out each time one of its own comes back), and the promise resolves once every connection has
 * received both senders' messages.
 */
export function floodRooms(conns: readonly ContentConnection[], perSender: number, window: number): Promise<void> {
  const expected = perSender * 2;
  let doneConns = 0;
  return new Promise<void>((finish) => {
    conns.forEach((c, idx) => {
      let sent = 0;
      let ownBack = 0;
      let received = 0;
      const prefix = `t${idx}-`;
      const pump = (): void => {
        while (sent < perSender && sent - ownBack < window) c.send(`${prefix}${sent++}`);
      };
      c.onContent = (content) => {
        if (content.startsWith(prefix)) {
          ownBack++;
          pump();
        }
        if (++received === expected && ++doneConns === conns.length) finish();
      };
      pump();
    });
  });
}

/** A chat server started by startBenchChatServer. */
export interface BenchChatServer {
  readonly runtime: ChatRuntime;
  readonly port: number;
  /** Closes the server, then the runtime, then the store. */
  close(): Promise<void>;
}

/**
 * The chat server as the WebSocket benchmarks measure it: createChatServer + createChatRuntime on 127.0.0.1, port 0,
 * an unbounded MemoryStore, dev auth, no agents, no logs, no metrics. Every bench client connects from 127.0.0.1, so
 * the per-address bound on authenticating sockets is lifted; `limits` lifts what the workload needs (it posts far
 * faster than a human, so the message budget at least).
 */
export async function startBenchChatServer(limits: NonNullable<NonNullable<ConfigInput['chat']>['limits']>): Promise<BenchChatServer> {
  const config = loadConfig({
    overrides: {
      server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' }, websocket: { max_authenticating_per_address: 0 } },
      chat: { limits, nlweb: { endpoints: [], standin: { enabled: false } } },
      observability: { log_level: 'silent', metrics: { enabled: false } },
    },
  });
  const store = new MemoryStore();
  await store.open();
  const runtime = await createChatRuntime({ config, storage: store, agents: [] });
  const server = createChatServer({ runtime, config });
  const { port } = await server.listen();
  return {
    runtime,
    port,
    async close() {
      await server.close();
      await runtime.close({ deadlineMs: 2000 });
      await store.close();
    },
  };
}
