import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ChatMessage } from '../../actors';
import { main } from '../../bin/replay/cli-program';
import type { InterruptSubscription } from '../../bin/replay/live-follow';
import { startTcpProxy, type TcpProxy } from '../recovery/tcp-proxy';
import jwt from 'jsonwebtoken';
import { JWT_SECRET, closeAll, startHarness, type Harness } from '../gateway/harness';
import { CLI, ROOT, parseJsonLines, runMain } from './replay-fixtures';

/**
 * `--server ... --follow`: after the history pages, the CLI stays on the conversation's socket (the reference client)
 * and prints each record as the server sequences it. Real server on 127.0.0.1 port 0, real HTTP and WebSocket; the
 * CLI runs in-process (main) with sinks the test reads line by line, and an interrupt the test fires.
 */

/** A sink that keeps lines and lets the test wait for one; `holdAt` makes write() report full until release(). */
class LineSink extends EventEmitter {
  readonly lines: string[] = [];
  private partial = '';
  private waiters: Array<{ test: (line: string) => boolean; resolve: (line: string) => void }> = [];
  holdAt?: (line: string) => boolean;
  private held = false;

  write(chunk: string): boolean {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    let hold = false;
    for (const line of parts) {
      this.lines.push(line);
      if (this.holdAt?.(line)) hold = true;
      for (const w of this.waiters.filter((x) => x.test(line))) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
    if (hold) this.held = true;
    return !hold;
  }

  /** The first line (seen or to come) that passes `test`. */
  waitFor(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  release(): void {
    this.holdAt = undefined;
    if (this.held) {
      this.held = false;
      this.emit('drain');
    }
  }

  text(): string {
    return this.lines.map((l) => `${l}\n`).join('') + this.partial;
  }
}

/** Runs main with --follow in the background: its sinks, a Ctrl-C, and its exit code. */
function follow(...args: string[]) {
  const stdout = new LineSink();
  const stderr = new LineSink();
  let interrupt: (() => void) | undefined;
  let subscriptions = 0;
  const interrupts: InterruptSubscription = (fn) => {
    subscriptions += 1;
    interrupt = fn;
    return () => {
      interrupt = undefined;
    };
  };
  const done = main(['node', 'replay', ...args, '--follow'], { stdout, stderr, interrupts });
  return {
    stdout,
    stderr,
    done,
    /** Ctrl-C. */
    interrupt: () => interrupt?.(),
    get subscribed() {
      return subscriptions > 0 && interrupt !== undefined;
    },
    records: () => parseJsonLines(stdout.text()) as unknown as ChatMessage[],
    /** Resolves with the JSON line of sequence id `seq`. */
    seq: (n: number) => stdout.waitFor((l) => l.includes(`"sequence_id":${n},`)),
    live: () => stderr.waitFor((l) => l.includes('live after #')),
  };
}

const ids = (records: readonly ChatMessage[]): number[] => records.map((r) => r.sequence_id);
const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

async function post(h: Harness, conv: string, sender: string, n: number, tag: string): Promise<number> {
  let last = 0;
  for (let i = 0; i < n; i++)
    last = (await h.runtime.post(conv, { sender_id: sender, message_id: `${tag}-${i}`, content: `${tag} ${i}` })).sequence_id;
  return last;
}

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await closeAll();
});

describe('replay --server --follow', () => {
  let h: Harness;
  let conv: string;
  beforeEach(async () => {
    h = await startHarness();
    conv = await h.createConversation('alice', ['bob']);
    await post(h, conv, 'alice', 3, 'before');
  });

  test('records posted while following are printed once each, in order, after what the server held; Ctrl-C exits 0', async () => {
    const f = follow(conv, '--server', h.url, '--token', h.token('bob'), '--json');
    const heldUpTo = (await h.runtime.getConversation(conv)).last_sequence_id;
    expect(await f.live()).toContain(`following conversation ${conv} live after #${heldUpTo}`);
    const last = await post(h, conv, 'alice', 4, 'live');
    await post(h, conv, 'bob', 0, 'none');
    await f.seq(last);
    // Printed as they came, before any interrupt: the line is out while the CLI still follows.
    expect(f.subscribed).toBe(true);
    f.interrupt();
    expect(await f.done).toBe(0);
    expect(ids(f.records())).toEqual(oneToN(last));
    expect(
      f
        .records()
        .slice(-4)
        .map((r) => r.content),
    ).toEqual(['live 0', 'live 1', 'live 2', 'live 3']);
  });

  test('records sequenced between the last history page and the socket are neither lost nor repeated at the seam', async () => {
    const heldUpTo = (await h.runtime.getConversation(conv)).last_sequence_id;
    const stdoutHold = `"sequence_id":${heldUpTo},`;
    const stdout = new LineSink();
    // The CLI cannot open its socket before this write drains: the records posted meanwhile are after the pages.
    stdout.holdAt = (line) => line.includes(stdoutHold);
    const stderr = new LineSink();
    let interrupt: (() => void) | undefined;
    const done = main(['node', 'replay', conv, '--server', h.url, '--token', h.token('bob'), '--json', '--follow'], {
      stdout,
      stderr,
      interrupts: (fn) => ((interrupt = fn), () => undefined),
    });
    await stdout.waitFor((l) => l.includes(stdoutHold));
    const last = await post(h, conv, 'alice', 3, 'seam');
    stdout.release();
    await stdout.waitFor((l) => l.includes(`"sequence_id":${last},`));
    expect(await stderr.waitFor((l) => l.includes('live after'))).toContain(`live after #${heldUpTo}`);
    interrupt!();
    expect(await done).toBe(0);
    expect(ids(parseJsonLines(stdout.text()) as unknown as ChatMessage[])).toEqual(oneToN(last));
  });

  test('a cut connection is resumed: what was posted while it was down is printed once, nothing twice', async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(h.url).port) });
    const f = follow(conv, '--server', `http://127.0.0.1:${proxy.port}`, '--token', h.token('bob'), '--json');
    await f.live();
    await f.seq(await post(h, conv, 'alice', 2, 'up'));
    proxy.cut(); // resets every open connection and refuses new ones until accept()
    await f.stderr.waitFor((l) => l.includes('connection lost'));
    await post(h, conv, 'alice', 3, 'down');
    proxy.accept();
    await f.stderr.waitFor((l) => l.includes('reconnected'));
    const last = await post(h, conv, 'bob', 2, 'again');
    await f.seq(last);
    f.interrupt();
    expect(await f.done).toBe(0);
    expect(ids(f.records())).toEqual(oneToN(last));
    expect(f.stderr.lines.filter((l) => l.includes('reconnected'))).toHaveLength(1);
  });

  test('timeline format, --as and --to: the live records look like the others and --to ends the follow by itself', async () => {
    const heldUpTo = (await h.runtime.getConversation(conv)).last_sequence_id;
    const f = follow(conv, '--server', h.url, '--token', h.token('bob'), '--as', 'bob', '--from', '2', '--to', String(heldUpTo + 2));
    await f.stderr.waitFor((l) => l.includes('live after'));
    await post(h, conv, 'alice', 3, 'live');
    // Past --to: the CLI stops following on its own, exit 0, without an interrupt.
    expect(await f.done).toBe(0);
    const rows = f.stdout.lines.filter((l) => l.trim() !== '');
    expect(rows[0]).toMatch(/^\s*SEQ\s+TIME\s+SENDER/);
    expect(rows.slice(1).map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual(Array.from({ length: heldUpTo + 1 }, (_, i) => i + 2));
    expect(rows.at(-1)).toContain('live 1');
    expect(rows.join('\n')).not.toContain('live 2');
  });

  test('--to naming a record still to come ends the follow once that record is printed, not at the next one', async () => {
    const heldUpTo = (await h.runtime.getConversation(conv)).last_sequence_id;
    const f = follow(conv, '--server', h.url, '--token', h.token('bob'), '--json', '--to', String(heldUpTo + 1));
    await f.live();
    // The conversation then goes quiet: nothing past --to is ever sequenced, and the CLI must not wait for it.
    await post(h, conv, 'alice', 1, 'last');
    expect(await f.done).toBe(0);
    expect(ids(f.records())).toEqual(oneToN(heldUpTo + 1));
    expect(f.subscribed).toBe(false);
  });

  test('--check --follow reports a violation of a live record as it comes, then the summary at Ctrl-C (exit 2)', async () => {
    await h.runtime.join(conv, { participant_id: 'bot', participant_type: 'ai', external: true });
    const f = follow(conv, '--server', h.url, '--token', h.token('bob'), '--check');
    await f.live();
    const clean = await post(h, conv, 'alice', 1, 'fine');
    // An external AI participant may carry in_reply_to_sequence: one naming a record that does not exist yet.
    const bad = await h.runtime.post(conv, {
      sender_id: 'bot',
      message_id: 'bot-1',
      content: 'answer to the future',
      metadata: { in_reply_to_sequence: 999 },
    });
    const line = await f.stdout.waitFor((l) => l.startsWith('violation'));
    expect(line).toMatch(new RegExp(`^violation #${bad.sequence_id} answer_before_trigger: .*\\(message bot-1, sender bot\\)$`));
    expect(f.stdout.lines.some((l) => l.startsWith('check'))).toBe(false);
    f.interrupt();
    expect(await f.done).toBe(2);
    expect(f.stdout.lines.at(-1)).toBe(`check FAILED: conversation ${conv}: ${bad.sequence_id} records, 1 violations`);
    expect(clean).toBe(bad.sequence_id - 1);
  });

  test('a clean live stream: --check --follow --json prints no violation, then the summary counting every record', async () => {
    const f = follow(conv, '--server', h.url, '--token', h.token('bob'), '--check', '--json');
    await f.live();
    await post(h, conv, 'alice', 3, 'fine');
    // --check prints no record lines; bob's removal ends the follow after every record up to his leave was read.
    await h.runtime.leave(conv, 'bob');
    // His leave record is the last he gets (the mode change after it goes to the others only).
    const journal = await h.runtime.readMessages(conv, 0, 100);
    const leave = journal.find((m) => m.message_type === 'leave' && m.sender_id === 'bob')!;
    expect(await f.done).toBe(4);
    expect(parseJsonLines(f.stdout.text())).toEqual([
      { type: 'check_summary', conversation_id: conv, records: leave.sequence_id, violations: 0, unshown: 0 },
    ]);
  });

  test('the follower removed from the conversation: its leave record, a message naming it, exit 4', async () => {
    const f = follow(conv, '--server', h.url, '--token', h.token('bob'), '--json');
    await f.live();
    await h.runtime.leave(conv, 'bob');
    expect(await f.done).toBe(4);
    expect(f.records().at(-1)).toMatchObject({ message_type: 'leave', sender_id: 'bob', sender_type: 'system' });
    expect(f.stderr.lines.at(-1)).toBe(
      `replay: CHAT_ERR_NOT_PARTICIPANT: stopped following: bob is no longer a member of conversation ${conv} (removed, or left from another connection): the server closed the socket with 4003`,
    );
  });
});

describe('replay --server --follow: an end that is not the conversation ending', () => {
  test('the token expiring while following (close 4001) is an error with the server code, exit 1', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    // Valid for the history pages, expired a second or two later: the gateway closes the socket at its exp.
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = jwt.sign({ sub: 'bob', exp }, JWT_SECRET, { algorithm: 'HS256' });
    const f = follow(conv, '--server', h.url, '--token', token, '--json');
    await f.live();
    expect(await f.done).toBe(1);
    expect(f.stderr.lines.at(-1)).toMatch(
      new RegExp(
        `^replay: GATEWAY_ERR_UNAUTHENTICATED: following conversation ${conv} stopped: fatal close 4001: GATEWAY_ERR_UNAUTHENTICATED token expired$`,
      ),
    );
    expect(ids(f.records())).toEqual(oneToN((await h.runtime.getConversation(conv)).last_sequence_id));
  });
});

describe('replay --follow as a process (dist build)', () => {
  test.each(['SIGINT', 'SIGTERM'] as const)('%s: what was printed is complete, exit 0', async (signal) => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const child = spawn(process.execPath, [CLI, conv, '--server', h.url, '--json', '--follow'], {
      cwd: ROOT,
      env: { ...process.env, NLWEB_CHAT_TOKEN: h.token('bob') },
    });
    const stdout = new LineSink();
    const stderr = new LineSink();
    child.stdout.setEncoding('utf8').on('data', (c: string) => stdout.write(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => stderr.write(c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const heldUpTo = (await h.runtime.getConversation(conv)).last_sequence_id;
      await stderr.waitFor((l) => l.includes(`live after #${heldUpTo} `));
      const last = await post(h, conv, 'alice', 3, 'live');
      await stdout.waitFor((l) => l.includes(`"sequence_id":${last},`));
      child.kill(signal);
      expect(await exited).toBe(0);
      expect(ids(parseJsonLines(stdout.text()) as unknown as ChatMessage[])).toEqual(oneToN(last));
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('replay --follow: usage errors (exit 1, nothing read)', () => {
  test('--follow with --storage or --file says why it needs --server; --rerun cannot follow', async () => {
    const storage = await runMain('c1', '--storage', 'memory', '--follow');
    expect(storage).toMatchObject({ code: 1, stdout: '' });
    expect(storage.stderr).toMatch(/^replay: CONFIG_ERR_INVALID: --follow needs --server: a store is read as it is now/);
    const file = await runMain('--file', '/nonexistent.jsonl', '--follow');
    expect(file.stderr).toMatch(/^replay: CONFIG_ERR_INVALID: --follow needs --server: an export file is read as it is now/);
    expect(file.code).toBe(1);
    const rerun = await runMain('c1', '--server', 'http://127.0.0.1:1', '--rerun', '--follow');
    expect(rerun).toMatchObject({ code: 1, stderr: expect.stringContaining('--rerun re-runs a finished journal and cannot follow one') });
    const both = await runMain('c1', '--server', 'http://127.0.0.1:1', '--storage', 'memory', '--follow');
    expect(both.stderr).toContain('give exactly one of --storage <spec>, --file <export.jsonl> or --server <url>');
  });
});
