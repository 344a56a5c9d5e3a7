import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, section, typeErrors } from './doc-examples';

/**
 * The docs' fragments: docs/client.md's examples, the stand-in's in docs/nlweb.md and opening a store in
 * docs/storage.md. They are parts of an application (its token, its render functions, a client or config made
 * earlier), so they are type-checked with those names declared in a file of their own, against the built package: a
 * renamed option, event field or method fails here instead of in a reader's editor. Each is checked as it stands,
 * a CommonJS module of its own, which is what a reader pasting it into a CommonJS TypeScript project compiles: a
 * top-level `await` fails (TS1309), so an example that awaits does so inside a function of its own.
 * Only the names below are assumed; anything else a fragment uses must come from its own imports.
 */
const APPLICATION_NAMES = [
  "import type { ChatClient } from 'nlweb-chat/client';",
  "import type { ChatRuntime, NlwebChatConfig } from 'nlweb-chat';",
  'declare global {',
  '  const jwt: string;',
  '  function render(participants: unknown): void;',
  '  function showBanner(text: string): void;',
  '  const client: ChatClient;',
  '  const input: HTMLInputElement;',
  '  const hint: HTMLElement;',
  '  const runtime: ChatRuntime;',
  '  const config: NlwebChatConfig;',
  '}',
  'export {};',
].join('\n');

/** The fragment as a module (a fragment without an import or export would be a script, sharing the global names). */
const asModule = (fragment: string): string => `${fragment}\nexport {};\n`;

const fragmentErrors = (fragment: string): string => typeErrors(asModule(fragment), APPLICATION_NAMES);

const doc = (name: string) => readFileSync(join(repo, 'docs', name), 'utf8');
const tsBlocks = (markdown: string) => fencedBlocks(markdown).filter((b) => b.lang === 'ts');

describe('how fragments are checked', () => {
  it('as a CommonJS consumer compiles them: a top-level await is refused, the same await in a function is not', () => {
    // Without this, a checker that wrapped fragments in a function (as this one once did) or compiled them as ES
    // modules would pass the top-level awaits a reader's CommonJS project refuses.
    expect(fragmentErrors('await client.connect();')).toContain('TS1309');
    expect(fragmentErrors('async function main(): Promise<void> {\n  await client.connect();\n}\nvoid main();')).toBe('');
  });
});

describe('docs/client.md examples', () => {
  const examples = tsBlocks(doc('client.md'));

  it('has the examples this test was written for (the opening one, leave, limits, serving the page)', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples.map((b, i) => [i, b.body] as const))('example %i type-checks against the built package', (_i, body) => {
    // npm test builds dist/ before jest runs; the examples import the package entry points.
    expect(existsSync(join(repo, 'dist/client/index.d.ts'))).toBe(true);
    expect(fragmentErrors(body)).toBe('');
  });
});

describe('the fragments of docs/nlweb.md and docs/storage.md', () => {
  it('the stand-in example (docs/nlweb.md) type-checks against the built package', () => {
    const [standin] = tsBlocks(section(doc('nlweb.md'), '## The stand-in (`testing/nlweb-standin-server.ts`)'));
    expect(fragmentErrors(standin!.body)).toBe('');
  });

  it('opening a store from the config (the first example of docs/storage.md) type-checks against the built package', () => {
    const [opening] = tsBlocks(doc('storage.md'));
    expect(opening!.body).toContain('createStore(config.chat.storage)');
    expect(fragmentErrors(opening!.body)).toBe('');
  });
});
