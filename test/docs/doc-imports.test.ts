import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './doc-examples';
import { allDocImports, docImports, unresolvedImports } from './doc-imports';

describe('what the docs tell a reader to import', () => {
  it('finds import statements (fenced or inline, type-only too) and "`name` from `entry`" prose', () => {
    const markdown = [
      "Use it (`import { createChatClient } from 'nlweb-chat/client'`).",
      '```ts',
      "import { createChatRuntime, type Agent as A } from 'nlweb-chat';",
      "import type { ChatStore } from 'nlweb-chat/storage-providers';",
      "import { x } from './local';",
      '```',
      '`runChatStoreContract(name, factory)` from `nlweb-chat/testing` runs it.',
    ].join('\n');
    expect(docImports('docs/x.md', markdown)).toEqual([
      { where: 'docs/x.md:1', name: 'createChatClient', typeOnly: false, entry: 'nlweb-chat/client' },
      { where: 'docs/x.md:3', name: 'createChatRuntime', typeOnly: false, entry: 'nlweb-chat' },
      { where: 'docs/x.md:3', name: 'Agent', typeOnly: true, entry: 'nlweb-chat' },
      { where: 'docs/x.md:4', name: 'ChatStore', typeOnly: true, entry: 'nlweb-chat/storage-providers' },
      { where: 'docs/x.md:7', name: 'runChatStoreContract', typeOnly: false, entry: 'nlweb-chat/testing' },
    ]);
  });

  it('reports a name the built package does not export, with where the doc names it', () => {
    expect(existsSync(join(repo, 'dist/index.d.ts'))).toBe(true);
    const problems = unresolvedImports([
      { where: 'docs/x.md:1', name: 'createChatRuntime', typeOnly: false, entry: 'nlweb-chat' },
      { where: 'docs/x.md:2', name: 'noSuchExport', typeOnly: false, entry: 'nlweb-chat' },
    ]);
    expect(problems).toEqual([expect.stringMatching(/^docs\/x\.md:2: noSuchExport from 'nlweb-chat': error TS2305: /)]);
  });

  it('every name in docs/*.md and README.md resolves from the entry point the doc names (built package, "exports")', () => {
    // npm test builds dist/ before jest runs.
    expect(existsSync(join(repo, 'dist/index.d.ts'))).toBe(true);
    const imports = allDocImports();
    // The embedder's NLWeb API is among them (docs/nlweb.md, docs/embedding.md), so this is not vacuous.
    expect(imports.filter((d) => d.entry === 'nlweb-chat').map((d) => d.name)).toEqual(
      expect.arrayContaining(['createChatRuntime', 'createAgentsFromConfig', 'createNlwebAgent', 'NlwebAgentOptions']),
    );
    expect(unresolvedImports(imports)).toEqual([]);
  });
});
