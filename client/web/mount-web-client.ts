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

/** The modules of client/ the page needs, by path relative to client/ without extension. */
const MODULES = [
  'typed-emitter',
  'backoff',
  'protocol-frames',
  'client-types',
  'client-platform',
  'chat-socket-url',
  'chat-socket',
  'outbox',
  'delivery-buffer',
  'ack-throttle',
  'heartbeat',
  'roster',
  'subprotocol-offer',
  'connection-loop',
  'chat-client',
  'web/chat-page',
] as const;
const ENTRY = 'web/chat-page';

export interface MountWebClientOptions {
  /** Where the page is served (default '/'). */
  readonly path?: string;
}

/** Adds GET / (the chat page) and GET /client/chat-bundle.js to `app`. */
export function mountWebClient(app: express.Application, options: MountWebClientOptions = {}): void {
  let html: string | undefined;
  let bundle: string | undefined;
  app.get(options.path ?? '/', (_req, res) => {
    html ??= readFileSync(findHtml(), 'utf8');
    res.type('html').set('Cache-Control', 'no-cache').send(html);
  });
  app.get('/client/chat-bundle.js', (_req, res) => {
    bundle ??= buildBrowserBundle();
    res.type('application/javascript').set('Cache-Control', 'no-cache').send(bundle);
  });
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
  const clientDir = path.resolve(__dirname, '..');
  const parts = MODULES.map((name) => {
    const code = moduleSource(clientDir, name).replace(/^\/\/# sourceMappingURL=.*$/m, '');
    return `defs[${JSON.stringify(name)}] = function (exports, require, module) {\n${code}\n};`;
  });
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
