import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, section, typeErrors } from './doc-examples';

/**
 * The docs' fragments: docs/client.md's examples, the stand-in's in docs/nlweb.md and opening a store in
 * docs/storage.md. They are parts of an application (its token, its render functions, a client or config made
 * earlier, top-level await), so they are type-checked with those names declared and their statements inside an async function,
 * against the built package: a renamed option, event field or method fails here instead of in a reader's editor.
 * Only the names below are assumed; anything else a fragment uses must come from its own imports.
 */
const PRELUDE = [
  "import type { ChatClient } from 'nlweb-chat/client';",
  "import type { ChatRuntime, NlwebChatConfig } from 'nlweb-chat';",
  'declare const jwt: string;',
  'declare function render(participants: unknown): void;',
  'declare function showBanner(text: string): void;',
  'declare const client: ChatClient;',
  'declare const input: HTMLInputElement;',
  'declare const hint: HTMLElement;',
  'declare const runtime: ChatRuntime;',
  'declare const config: NlwebChatConfig;',
].join('\n');

/** The fragment as a module: its imports at the top, the rest the body of an async function. */
function asModule(fragment: string): string {
  const lines = fragment.split('\n');
  const imports = lines.filter((l) => l.startsWith('import '));
  const body = lines.filter((l) => !l.startsWith('import '));
  return `${imports.join('\n')}\n${PRELUDE}\nexport async function example(): Promise<void> {\n${body.join('\n')}\n}\n`;
}

const doc = (name: string) => readFileSync(join(repo, 'docs', name), 'utf8');
const tsBlocks = (markdown: string) => fencedBlocks(markdown).filter((b) => b.lang === 'ts');

describe('docs/client.md examples', () => {
  const examples = tsBlocks(doc('client.md'));

  it('has the examples this test was written for (the opening one, leave, limits, serving the page)', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples.map((b, i) => [i, b.body] as const))('example %i type-checks against the built package', (_i, body) => {
    // npm test builds dist/ before jest runs; the examples import the package entry points.
    expect(existsSync(join(repo, 'dist/client/index.d.ts'))).toBe(true);
    expect(typeErrors(asModule(body))).toBe('');
  });
});

describe('the fragments of docs/nlweb.md and docs/storage.md', () => {
  it('the stand-in example (docs/nlweb.md) type-checks against the built package', () => {
    const [standin] = tsBlocks(section(doc('nlweb.md'), '## The stand-in (`testing/nlweb-standin-server.ts`)'));
    expect(typeErrors(asModule(standin!.body))).toBe('');
  });

  it('opening a store from the config (the first example of docs/storage.md) type-checks against the built package', () => {
    const [opening] = tsBlocks(doc('storage.md'));
    expect(opening!.body).toContain('createStore(config.chat.storage)');
    expect(typeErrors(asModule(opening!.body))).toBe('');
  });
});
