import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, validateConfig, CONFIG_SCHEMA, ENV_OVERRIDES } from '../../config';
import { isChatError } from '../../actors/errors';

const repo = join(__dirname, '../..');

function problemsOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (err) {
    if (isChatError(err, 'CONFIG_ERR_INVALID')) return err.details!.problems as Array<{ path: string; message: string }>;
    throw err;
  }
  throw new Error('expected CONFIG_ERR_INVALID');
}

/** Every leaf key path of the schema, arrays as `[]`. */
function leafPaths(schema: Record<string, unknown>, prefix = ''): string[] {
  if (schema.type === 'array') return leafPaths(schema.items as Record<string, unknown>, `${prefix}[]`);
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (!props) return [prefix];
  return Object.entries(props).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

describe('config', () => {
  it('loads the shipped config_nlweb.yaml with the required chat keys and defaults', () => {
    const config = loadConfig({ file: join(repo, 'config_nlweb.yaml') });
    expect(config.chat.storage.backend).toBe('memory');
    expect(config.chat.context).toEqual({ human_messages: 5, nlweb_timeout: 20, ws_max_retries: 0 });
    expect(config.chat.limits.max_participants).toBe(100);
    expect(config.chat.limits.queue_size).toBe(1000);
    expect(config.chat.nlweb.endpoints[0]).toMatchObject({ id: 'nlweb', url: 'standin', auto_join: true });
    expect(Object.isFrozen(config.chat.limits)).toBe(true);
  });

  it('reports every problem with its YAML path: unknown keys, wrong types, out-of-range values', () => {
    const problems = problemsOf(() =>
      validateConfig({
        chat: { limits: { queue_size: 0, queue_sise: 5 }, context: { human_messages: 'five' }, storage: { backend: 'mongo' } },
        server: { port: 70000 },
        extra: true,
      }),
    );
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['chat.limits.queue_size']).toMatch(/>= 1/);
    expect(byPath['chat.limits.queue_sise']).toBe('unknown key');
    expect(byPath['chat.context.human_messages']).toMatch(/integer/);
    expect(byPath['chat.storage.backend']).toMatch(/memory/);
    expect(byPath['server.port']).toMatch(/<= 65535/);
    expect(byPath.extra).toBe('unknown key');
  });

  it('names array items by index', () => {
    const problems = problemsOf(() => validateConfig({ chat: { nlweb: { endpoints: [{ id: 'ok', url: 'x' }, { id: 'bad id!' }] } } }));
    expect(problems.map((p) => p.path)).toEqual(expect.arrayContaining(['chat.nlweb.endpoints[1].id', 'chat.nlweb.endpoints[1].url']));
  });

  it('refuses an endpoint id "system", the sender id of the conversation\'s own records', () => {
    const problems = problemsOf(() => validateConfig({ chat: { nlweb: { endpoints: [{ id: 'system', url: 'x' }] } } }));
    expect(problems.map((p) => p.path)).toEqual(['chat.nlweb.endpoints[0].id']);
  });

  it('applies environment overrides before validation (and validates them)', () => {
    const config = loadConfig({ env: { PORT: '9123', NLWEB_CHAT_STORAGE_BACKEND: 'sqlite', NLWEB_CHAT_METRICS_ENABLED: 'false' } });
    expect(config.server.port).toBe(9123);
    expect(config.chat.storage.backend).toBe('sqlite');
    expect(config.observability.metrics.enabled).toBe(false);
    expect(problemsOf(() => loadConfig({ env: { PORT: 'eighty' } }))[0].path).toBe('server.port');
  });

  it('takes numbers from the environment in decimal only: hex, binary and octal notations are refused, not converted', () => {
    // Number('0x1F90') is 8080: an operator's typo or a shell's leftover would have become another value silently.
    for (const value of ['0x1F90', '0b1', '0o17']) {
      expect(problemsOf(() => loadConfig({ env: { PORT: value } }))).toEqual([
        { path: 'server.port', message: 'must be integer (set by env PORT)' },
      ]);
    }
    expect(problemsOf(() => loadConfig({ env: { NLWEB_CHAT_NLWEB_TIMEOUT: '0x10' } }))[0]).toEqual({
      path: 'chat.context.nlweb_timeout',
      message: 'must be number (set by env NLWEB_CHAT_NLWEB_TIMEOUT)',
    });
    expect(loadConfig({ env: { PORT: ' 8080 ', NLWEB_CHAT_QUEUE_SIZE: '1e3', NLWEB_CHAT_NLWEB_TIMEOUT: '.5' } })).toMatchObject({
      server: { port: 8080 },
      chat: { limits: { queue_size: 1000 }, context: { nlweb_timeout: 0.5 } },
    });
  });

  it('names the environment variable behind a problem, so it is not looked for in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    try {
      const file = join(dir, 'config.yaml');
      writeFileSync(file, 'chat:\n  limits:\n    queue_size: 0\n');
      const problems = problemsOf(() => loadConfig({ file, env: { PORT: 'eighty', NLWEB_CHAT_LOG_LEVEL: 'info' } }));
      const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
      expect(byPath['server.port']).toBe('must be integer (set by env PORT)');
      expect(byPath['chat.limits.queue_size']).toBe('must be >= 1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // A programmatic override of the same key wins over the variable: the problem is not the variable's.
    const overridden = problemsOf(() => loadConfig({ env: { PORT: '8080' }, overrides: { server: { port: -1 } } }));
    expect(overridden).toEqual([{ path: 'server.port', message: 'must be >= 0' }]);
  });

  it('refuses a file that is not a mapping, and a section that is not one, even where an env variable sets a key below it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    try {
      const write = (name: string, text: string): string => {
        const file = join(dir, name);
        writeFileSync(file, text);
        return file;
      };
      // A list or a bare word was merged away (the first layer after it is an object), so the server ran on defaults.
      const list = write('list.yaml', '- server\n- chat\n');
      expect(problemsOf(() => loadConfig({ file: list }))).toEqual([{ path: '', message: 'must be object' }]);
      expect(problemsOf(() => loadConfig({ file: write('word.yaml', 'server\n') }))).toEqual([{ path: '', message: 'must be object' }]);
      // `server: 5` was refused without PORT, and silently replaced by { port } with it.
      const scalar = write('scalar.yaml', 'server: 5\n');
      expect(problemsOf(() => loadConfig({ file: scalar, env: { PORT: '0' } }))).toEqual([{ path: 'server', message: 'must be object' }]);
      expect(problemsOf(() => loadConfig({ file: scalar, overrides: { server: { port: 0 } } }))).toEqual([
        { path: 'server', message: 'must be object' },
      ]);
      // An empty file (and an empty section without overrides below it) is still "nothing set".
      expect(loadConfig({ file: write('empty.yaml', '') }).server.port).toBe(8000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a heartbeat dead time not longer than the interval, naming both keys (it could never take effect)', () => {
    const ws = (interval: number, dead: number) => ({ server: { websocket: { heartbeat_interval_s: interval, heartbeat_dead_s: dead } } });
    expect(problemsOf(() => validateConfig(ws(30, 2)))).toEqual([
      {
        path: 'server.websocket.heartbeat_dead_s',
        message:
          'must be greater than server.websocket.heartbeat_interval_s (2 is not > 30): the server looks for silent sockets once per interval, and a peer that only answers pings is silent for a whole interval',
      },
    ]);
    // Equal is refused too: a tick that fires late would terminate healthy peers.
    expect(problemsOf(() => validateConfig(ws(30, 30)))[0].path).toBe('server.websocket.heartbeat_dead_s');
    // Set alone, each is checked against the other's default (30 / 75).
    expect(problemsOf(() => validateConfig({ server: { websocket: { heartbeat_interval_s: 80 } } }))[0].path).toBe(
      'server.websocket.heartbeat_dead_s',
    );
    expect(validateConfig(ws(30, 31)).server.websocket.heartbeat_dead_s).toBe(31);
    // A value the schema already refuses is not reported twice.
    expect(problemsOf(() => validateConfig(ws(30, 0.001)))).toEqual([
      { path: 'server.websocket.heartbeat_dead_s', message: 'must be >= 0.02' },
    ]);
    // Reported with the schema's problems, not instead of them.
    const both = problemsOf(() => validateConfig({ ...ws(30, 2), chat: { limits: { queue_size: 0 } } }));
    expect(both.map((p) => p.path).sort()).toEqual(['chat.limits.queue_size', 'server.websocket.heartbeat_dead_s']);
  });

  it('loads chat.typing.stop_hold_ms and repeat_min_ms (defaults 1000 / 2000, 0 allowed) and refuses values out of range', () => {
    expect(loadConfig({ file: join(repo, 'config_nlweb.yaml') }).chat.typing).toEqual({ stop_hold_ms: 1000, repeat_min_ms: 2000 });
    expect(validateConfig({}).chat.typing).toEqual({ stop_hold_ms: 1000, repeat_min_ms: 2000 });
    expect(validateConfig({ chat: { typing: { stop_hold_ms: 0, repeat_min_ms: 0 } } }).chat.typing).toEqual({
      stop_hold_ms: 0,
      repeat_min_ms: 0,
    });
    expect(validateConfig({ chat: { typing: { stop_hold_ms: 60_000, repeat_min_ms: 60_000 } } }).chat.typing.stop_hold_ms).toBe(60_000);
    const at = (typing: Record<string, unknown>) =>
      problemsOf(() => validateConfig({ chat: { typing } })).map((p) => `${p.path}: ${p.message}`);
    expect(at({ stop_hold_ms: -1, repeat_min_ms: 60_001 })).toEqual([
      'chat.typing.stop_hold_ms: must be >= 0',
      'chat.typing.repeat_min_ms: must be <= 60000',
    ]);
    expect(at({ stop_hold_ms: 1.5, repeat_min_ms: '2s' })).toEqual([
      'chat.typing.stop_hold_ms: must be integer',
      'chat.typing.repeat_min_ms: must be integer',
    ]);
    expect(at({ hold_ms: 5 })).toEqual(['chat.typing.hold_ms: unknown key']);
    // From a file too, with the coded error.
    const dir = mkdtempSync(join(tmpdir(), 'typing-'));
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, 'chat:\n  typing:\n    stop_hold_ms: 250\n');
      expect(loadConfig({ file, env: {} }).chat.typing).toEqual({ stop_hold_ms: 250, repeat_min_ms: 2000 });
      writeFileSync(file, 'chat:\n  typing:\n    stop_hold_ms: 70000\n');
      expect(() => loadConfig({ file, env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a PostgreSQL URL with ?schema= (the connection ignores it: the tables would go to chat.storage.postgres.schema), naming the variable', () => {
    // Reproduced with the binary: NLWEB_CHAT_POSTGRES_URL=postgres://.../test?schema=opcheck_a made `nlweb-chat migrate
    // --check` report "PostgreSQL schema public ...: pending 1, 2, 3", and `migrate` would have created the tables there.
    const url = 'postgres://postgres@127.0.0.1:5432/test?schema=tenant_a';
    expect(problemsOf(() => loadConfig({ env: { NLWEB_CHAT_STORAGE_BACKEND: 'postgres', NLWEB_CHAT_POSTGRES_URL: url } }))).toEqual([
      {
        path: 'chat.storage.postgres.url',
        message:
          'has a "schema" parameter, which the connection ignores: the tables would be in schema "public" (chat.storage.postgres.schema). ' +
          'Set chat.storage.postgres.schema: tenant_a and leave the parameter out (set by env NLWEB_CHAT_POSTGRES_URL)',
      },
    ]);
    const inFile = { chat: { storage: { backend: 'postgres', postgres: { url: `${url}&sslmode=disable`, schema: 'tenant_a' } } } };
    expect(problemsOf(() => validateConfig(inFile))[0].message).toContain('the tables would be in schema "tenant_a"');
    // Only where the URL is used, and other parameters pass.
    expect(validateConfig({ chat: { storage: { backend: 'sqlite', postgres: { url } } } }).chat.storage.backend).toBe('sqlite');
    const other = 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable&application_name=x';
    expect(validateConfig({ chat: { storage: { backend: 'postgres', postgres: { url: other } } } }).chat.storage.postgres.url).toBe(other);
  });

  it("refuses a storage URL of another scheme than its backend's, quoting only the scheme (the rest may hold a password)", () => {
    // pg ignores the scheme, so `postgress://` and `http://` connected as if they were right; ioredis took `http://host`
    // for a socket path and failed with `connect ENOENT //host:6379/`.
    const pg = (url: string) => ({ chat: { storage: { backend: 'postgres', postgres: { url } } } });
    expect(problemsOf(() => validateConfig(pg('postgress://postgres:secret@127.0.0.1:5432/test')))).toEqual([
      { path: 'chat.storage.postgres.url', message: 'must start with postgres:// or postgresql:// (not postgress://)' },
    ]);
    expect(problemsOf(() => validateConfig(pg('127.0.0.1:5432/test')))).toEqual([
      { path: 'chat.storage.postgres.url', message: 'must start with postgres:// or postgresql:// (it has no scheme)' },
    ]);
    expect(
      problemsOf(() => loadConfig({ env: { NLWEB_CHAT_STORAGE_BACKEND: 'redis', NLWEB_CHAT_REDIS_URL: 'http://127.0.0.1:6379' } })),
    ).toEqual([
      { path: 'chat.storage.redis.url', message: 'must start with redis:// or rediss:// (not http://) (set by env NLWEB_CHAT_REDIS_URL)' },
    ]);
    for (const url of ['postgres://h/db', 'postgresql://h/db', 'POSTGRES://h/db'])
      expect(validateConfig(pg(url)).chat.storage.postgres.url).toBe(url);
    const redis = { chat: { storage: { backend: 'redis', redis: { url: 'rediss://h:6380/1' } } } };
    expect(validateConfig(redis).chat.storage.redis.url).toBe('rediss://h:6380/1');
    // Only the URL of the backend in use: the other settings' defaults and leftovers are never connected to.
    expect(validateConfig({ chat: { storage: { backend: 'memory', postgres: { url: 'http://x' } } } }).chat.storage.backend).toBe('memory');
  });

  it('refuses chat.ownership.forward without chat.ownership.address with the config, so an embedded gateway refuses it too', () => {
    // Checked by createChatServer only before: a gateway on an embedder's own http server (createChatGateway) started,
    // and every request forwarded to a conversation it held was answered 421 with no owner_address.
    const message =
      'is required when chat.ownership.forward is true: the other servers forward requests for the conversations this one holds ' +
      'to the address it publishes (env NLWEB_CHAT_ADDRESS)';
    expect(problemsOf(() => validateConfig({ chat: { ownership: { forward: true } } }))).toEqual([
      { path: 'chat.ownership.address', message },
    ]);
    expect(
      problemsOf(() => loadConfig({ env: { NLWEB_CHAT_INSTANCE_ID: 'a' }, overrides: { chat: { ownership: { forward: true } } } })),
    ).toEqual([{ path: 'chat.ownership.address', message }]);
    const published = validateConfig({ chat: { ownership: { forward: true, address: 'ws://10.0.0.5:8000' } } });
    expect(published.chat.ownership.forward).toBe(true);
    expect(validateConfig({ chat: { ownership: { forward: false } } }).chat.ownership.address).toBe('');
  });

  it('rejects malformed YAML and an unreadable file with coded errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, 'chat: [unclosed');
      expect(() => loadConfig({ file })).toThrow(expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }));
      expect(() => loadConfig({ file: join(dir, 'missing.yaml') })).toThrow(expect.objectContaining({ code: 'CONFIG_ERR_READ' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docs/configuration.md lists every key and every environment override', () => {
    const doc = readFileSync(join(repo, 'docs/configuration.md'), 'utf8');
    for (const path of leafPaths(CONFIG_SCHEMA)) expect(doc).toContain(`\`${path}\``);
    for (const { env } of ENV_OVERRIDES) expect(doc).toContain(`\`${env}\``);
  });
});
