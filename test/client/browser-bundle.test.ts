import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBrowserBundle, collectModules } from '../../client/web/mount-web-client';

/** The modules a bundle defines, each with the relative requires of its code. */
function definedModules(bundle: string): Map<string, string[]> {
  const modules = new Map<string, string[]>();
  const starts = [...bundle.matchAll(/^defs\["([^"]+)"\] = function \(exports, require, module\) \{$/gm)];
  starts.forEach((start, i) => {
    const code = bundle.slice(start.index!, i + 1 < starts.length ? starts[i + 1]!.index : bundle.length);
    modules.set(
      start[1]!,
      [...code.matchAll(/\brequire\("(\.{1,2}\/[^"]+)"\)/g)].map((m) => m[1]!),
    );
  });
  return modules;
}

function resolve(from: string, request: string): string {
  const out: string[] = [];
  for (const part of [...from.split('/').slice(0, -1), ...request.split('/')]) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/').replace(/\.js$/, '');
}

describe('browser bundle of the reference client', () => {
  const modules = definedModules(buildBrowserBundle());

  it('defines every module its modules require (a missing one broke the whole page before)', () => {
    const missing: string[] = [];
    for (const [name, requests] of modules) {
      for (const request of requests) if (!modules.has(resolve(name, request))) missing.push(`${name} -> ${request}`);
    }
    expect(missing).toEqual([]);
    expect([...modules.keys()]).toEqual(expect.arrayContaining(['chat-client', 'web/chat-page', 'subprotocol-offer', 'connection-loop']));
  });

  it('follows requires transitively from the entries, and refuses a client module that requires code outside client/', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
    try {
      mkdirSync(path.join(dir, 'web'));
      writeFileSync(path.join(dir, 'web', 'page.ts'), "import { b } from '../b';\nexport const a = b;\n");
      writeFileSync(path.join(dir, 'b.ts'), "import { c } from './c';\nimport type { T } from './types-only';\nexport const b: T = c;\n");
      writeFileSync(path.join(dir, 'c.ts'), 'export const c = 1;\n');
      writeFileSync(path.join(dir, 'unused.ts'), 'export const u = 2;\n');
      expect([...collectModules(dir, ['web/page']).keys()]).toEqual(['b', 'c', 'web/page']);

      writeFileSync(path.join(dir, 'c.ts'), "import { x } from '../server-side';\nexport const c = x;\n");
      expect(() => collectModules(dir, ['web/page'])).toThrow('client module c requires ../server-side, outside client/');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
