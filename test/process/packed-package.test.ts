/**
 * The package as npm ships it: `npm pack` of the built repo (package.json "files"), unpacked where an install puts
 * it, and used from a consumer's script outside the repo. Offline and fast: no registry, the dependencies are
 * resolved from this repo's node_modules (NODE_PATH, which Node reads only after the consumer's own node_modules),
 * so the package's own code comes only from the tarball: a file the list leaves out fails here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

jest.setTimeout(60_000);

const repo = path.join(__dirname, '../..');

/** A consumer's script: the runtime on the memory store (one post, stored, delivered), then the chat page the binary serves. */
const CONSUMER_SCRIPT = `
const { createChatRuntime } = require('nlweb-chat');
const { MemoryStore } = require('nlweb-chat/storage-providers');
const { createChatGateway } = require('nlweb-chat/gateway');
const { createChatClient } = require('nlweb-chat/client');
const { createManualClock } = require('nlweb-chat/testing');
const express = require('express');

async function main() {
  const runtime = await createChatRuntime({ config: { observability: { log_level: 'silent' } }, storage: new MemoryStore() });
  await runtime.createConversation({ conversation_id: 'c', created_by: 'alice' });
  const seen = [];
  await runtime.subscribe('c', 'alice', (o) => { if (o.type === 'message') seen.push(o.message.content); });
  const posted = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hello from a consumer' });
  await posted.whenPersisted;
  await runtime.close();

  // The chat page, as the binary mounts it (bin/nlweb-chat.ts): it reads chat.html and builds the bundle from the package.
  const { mountWebClient } = require('nlweb-chat/gateway');
  const app = express();
  mountWebClient(app);
  const server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  const base = 'http://127.0.0.1:' + server.address().port;
  const page = await fetch(base + '/');
  const pageText = await page.text();
  const bundle = await fetch(base + '/client/chat-bundle.js');
  const bundleText = await bundle.text();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  console.log(JSON.stringify({
    exports: [typeof createChatGateway, typeof createChatClient, typeof createManualClock],
    sequenceId: posted.sequence_id,
    seen,
    page: [page.status, pageText.includes('chat-bundle.js')],
    bundle: [bundle.status, bundleText.includes('window.nlwebChat')],
  }));
}
main().catch((err) => { console.error(err); process.exit(1); });
`;

describe('the package npm pack ships', () => {
  let dir: string;
  let files: string[];
  let installed: string;

  beforeAll(() => {
    // npm test builds dist/ before jest runs; the tarball is made of it.
    expect(existsSync(path.join(repo, 'dist/index.js'))).toBe(true);
    dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-packed-'));
    // --ignore-scripts: dist/ is built already (prepack would build it again).
    const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, encoding: 'utf8' });
    const [packed] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed.files.map((f) => f.path);
    installed = path.join(dir, 'app', 'node_modules', 'nlweb-chat');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(dir, packed.filename), '-C', installed, '--strip-components=1']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds what a user needs (runtime, declarations, binaries, chat page, README, docs) and no tests, benchmarks, sources or maps', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/gateway/index.d.ts',
        'client/web/chat.html',
        'docs/embedding.md',
        'docs/errors.md',
      ]),
    );
    const unwanted = files.filter(
      (f) => /^(test|perf|dist\/perf)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f.endsWith('.map'),
    );
    expect(unwanted).toEqual([]);
    // Every file package.json points at is in it.
    const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: Record<string, string>;
    };
    const named = [pkg.main, pkg.types, ...Object.values(pkg.bin), ...Object.values(pkg.exports)];
    expect(named.filter((f) => !existsSync(path.join(installed, f)))).toEqual([]);
  });

  it('type-checks in a TypeScript project of the classic CommonJS kind ("module": "commonjs"), every entry point', () => {
    // That setting resolves modules the node10 way, which does not read "exports": `nlweb-chat/client` and the other
    // entry points had no declarations there (TS2307), only `nlweb-chat` itself ("types"). "typesVersions" names them.
    const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { exports: Record<string, string> };
    const entries = Object.keys(pkg.exports).filter((e) => e.startsWith('./') && e !== './package.json');
    expect(entries.length).toBeGreaterThanOrEqual(4);
    const app = path.dirname(path.dirname(installed));
    const file = path.join(app, 'consumer.ts');
    writeFileSync(
      file,
      [
        "import { createChatRuntime, type ChatRuntime } from 'nlweb-chat';",
        ...entries.map((e, i) => `import * as entry${i} from 'nlweb-chat/${e.slice(2)}';`),
        "import { createChatClient } from 'nlweb-chat/client';",
        "import { MemoryStore } from 'nlweb-chat/storage-providers';",
        'export async function main(): Promise<ChatRuntime> {',
        "  createChatClient({ url: 'ws://127.0.0.1:8000', conversationId: 'c', userId: 'alice' }).close();",
        '  return createChatRuntime({ storage: new MemoryStore() });',
        '}',
        `export const entries = [${entries.map((_e, i) => `entry${i}`).join(', ')}];`,
      ].join('\n'),
    );
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      typeRoots: [path.join(repo, 'node_modules/@types')],
      types: ['node'],
    };
    const program = ts.createProgram([file], options);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
  });

  it("works from a consumer's script outside the repo: a conversation on the memory store, the chat page and its bundle", () => {
    const app = path.dirname(path.dirname(installed));
    writeFileSync(path.join(app, 'main.js'), CONSUMER_SCRIPT);
    const out = execFileSync(process.execPath, ['main.js'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: path.join(repo, 'node_modules') },
      timeout: 30_000,
    });
    expect(JSON.parse(out)).toEqual({
      exports: ['function', 'function', 'function'],
      sequenceId: 2,
      seen: ['hello from a consumer'],
      page: [200, true],
      bundle: [200, true],
    });
    // The binaries run from it too (their dependencies resolve; commander answers --help without starting anything).
    const help = execFileSync(process.execPath, [path.join(installed, 'dist/bin/replay.js'), '--help'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: path.join(repo, 'node_modules') },
    });
    expect(help).toMatch(/^Usage: /m);
  });
});
