/**
 * Serves the browser chat page (GET /) and the reference client compiled for browsers
 * (GET /client/chat-bundle.js) from an express app. There is no bundler: the client's CommonJS
 * modules are wrapped into one script with a ~20-line module shim.
 *
 * Usage (entry point): createChatServer({ ..., extraRoutes: (app) => mountWebClient(app) }).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type express from 'express';
import { authModeMetaTag, maxMessageLengthMetaTag, maxRetriesMetaTag, type PageAuthMode } from './page-settings';

/**
 * Where the bundle starts: the page, and the client it exposes as `window.nlwebChat`. Every client module
 * they require is found by following their relative requires (collectModules): a hand-kept list broke the
 * page whenever a new client module was not added to it.
 */
const ENTRY = 'web/chat-page';
const ENTRIES = ['chat-client', ENTRY] as const;

export interface MountWebClientOptions {
  /** Where the page is served (default '/'). */
  readonly path?: string;
  /** Consecutive failed attempts before the page's client gives up (default: it never does). */
  readonly maxRetries?: number;
  /** The server's server.auth.mode: in 'jwt' the page asks for a token; without it, or 'dev', for a user id. */
  readonly authMode?: PageAuthMode;
  /** The server's chat.limits.max_message_length: the page refuses longer messages before sending (default: no check). */
  readonly maxMessageLength?: number;
}

/**
 * Only the server's own pages may frame the chat page: a page of another site laid over it (clickjacking) would turn
 * a visitor's clicks into joins and sends as them. X-Frame-Options for browsers without CSP frame-ancestors; nosniff
 * so neither answer is read as another type.
 */
const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "frame-ancestors 'self'",
  'X-Frame-Options': 'SAMEORIGIN',
  'X-Content-Type-Options': 'nosniff',
};

/** Adds GET / (the chat page) and GET /client/chat-bundle.js to `app`. */
export function mountWebClient(app: express.Application, options: MountWebClientOptions = {}): void {
  let html: string | undefined;
  let bundle: string | undefined;
  app.get(options.path ?? '/', (_req, res) => {
    html ??= withSettings(readFileSync(findHtml(), 'utf8'), options);
    res.type('html').set('Cache-Control', 'no-cache').set(PAGE_SECURITY_HEADERS).send(html);
  });
  app.get('/client/chat-bundle.js', (_req, res) => {
    bundle ??= buildBrowserBundle();
    res.type('application/javascript').set('Cache-Control', 'no-cache').set(PAGE_SECURITY_HEADERS).send(bundle);
  });
}

/** The page with the server's settings for it (page-settings.ts) at the top of its head. */
function withSettings(html: string, options: MountWebClientOptions): string {
  const tags = [
    ...(options.maxRetries !== undefined ? [maxRetriesMetaTag(options.maxRetries)] : []),
    ...(options.authMode !== undefined ? [authModeMetaTag(options.authMode)] : []),
    ...(options.maxMessageLength !== undefined ? [maxMessageLengthMetaTag(options.maxMessageLength)] : []),
  ];
  return tags.length === 0 ? html : html.replace('<head>', `<head>\n    ${tags.join('\n    ')}`);
}

/** chat.html lives in the source tree (client/web); from dist/client/web it is three levels up. */
function findHtml(): string {
  const candidates = [path.join(__dirname, 'chat.html'), path.resolve(__dirname, '../../../client/web/chat.html')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`chat.html not found (looked in ${candidates.join(', ')})`);
  return found;
}

/**
 * One script defining every module in a registry and running the page entry. Running from dist/,
 * the compiled .js files are used; running from sources (ts-jest, ts-node) the .ts files are
 * transpiled on the fly with the `typescript` dev dependency.
 */
export function buildBrowserBundle(): string {
  const modules = collectModules(path.resolve(__dirname, '..'));
  const parts = [...modules].map(([name, code]) => `defs[${JSON.stringify(name)}] = function (exports, require, module) {\n${code}\n};`);
  return `/* nlweb-chat reference client for browsers (generated) */
(function () {
  'use strict';
  var defs = {};
  var cache = {};
  function resolve(from, request) {
    var parts = from.split('/').slice(0, -1).concat(request.split('/'));
    var out = [];
    for (var i = 0; i < parts.length; i++) {
      if (parts[i] === '..') out.pop();
      else if (parts[i] !== '.' && parts[i] !== '') out.push(parts[i]);
    }
    return out.join('/').replace(/\\.js$/, '');
  }
  function load(name) {
    if (cache[name]) return cache[name].exports;
    if (!defs[name]) throw new Error('nlweb-chat bundle: no module ' + name);
    var module = { exports: {} };
    cache[name] = module;
    defs[name](module.exports, function (request) {
      if (request.charAt(0) !== '.') throw new Error('nlweb-chat bundle: cannot load ' + request + ' in a browser');
      return load(resolve(name, request));
    }, module);
    return module.exports;
  }
${parts.join('\n')}
  window.nlwebChat = load('chat-client');
  load(${JSON.stringify(ENTRY)});
})();
`;
}

/** A relative require from module `from` as a module name (client/-relative, no extension), as the shim resolves it. */
function resolveModule(from: string, request: string): string {
  const out: string[] = [];
  for (const part of [...from.split('/').slice(0, -1), ...request.split('/')]) {
    if (part === '..') {
      if (out.length === 0) throw new Error(`client module ${from} requires ${request}, outside client/: a browser cannot load it`);
      out.pop();
    } else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/').replace(/\.js$/, '');
}

/** The entries and every module they require, transitively, by name (sorted: the bundle is stable). */
export function collectModules(clientDir: string, entries: readonly string[] = ENTRIES): Map<string, string> {
  const found = new Map<string, string>();
  const pending: string[] = [...entries];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (found.has(name)) continue;
    const code = moduleSource(clientDir, name).replace(/^\/\/# sourceMappingURL=.*$/m, '');
    found.set(name, code);
    for (const [, request] of code.matchAll(/\brequire\("(\.{1,2}\/[^"]+)"\)/g)) pending.push(resolveModule(name, request!));
  }
  return new Map([...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function moduleSource(clientDir: string, name: string): string {
  const ts = path.join(clientDir, `${name}.ts`);
  if (existsSync(ts)) {
    const typescript = require('typescript') as typeof import('typescript');
    return typescript.transpileModule(readFileSync(ts, 'utf8'), {
      compilerOptions: { module: typescript.ModuleKind.CommonJS, target: typescript.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: ts,
    }).outputText;
  }
  return readFileSync(path.join(clientDir, `${name}.js`), 'utf8');
}
