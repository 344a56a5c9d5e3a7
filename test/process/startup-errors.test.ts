import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runToExit } from './server-process';

const run = (env: Record<string, string>) => runToExit([], env);

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

describe('server process start-up errors', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-cfg-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints every config problem with its YAML path and exits 1 without listening', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'chat:\n  limits:\n    queue_size: -5\n  unknown_key: 1\nobservability:\n  log_level: loud\n');
    const result = await run({ NLWEB_CHAT_CONFIG: file, NLWEB_CHAT_NLWEB_TIMEOUT: 'soon' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CONFIG_ERR_INVALID');
    expect(result.stderr).toContain('chat.limits.queue_size');
    expect(result.stderr).toContain('chat.unknown_key: unknown key');
    expect(result.stderr).toContain('observability.log_level');
    // Set by the environment, not the file: the line says so.
    expect(result.stderr).toContain('chat.context.nlweb_timeout: must be number (set by env NLWEB_CHAT_NLWEB_TIMEOUT)');
    expect(result.stdout).not.toContain('nlweb-chat ready');
    // The problems and nothing else: no stack trace, no JSON log lines.
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
  });

  it('refuses a file that is not a mapping (it used to start on defaults) and a misspelt key, naming each path', async () => {
    const list = path.join(dir, 'list.yaml');
    writeFileSync(list, '- server:\n    port: 0\n');
    const listed = await run({ NLWEB_CHAT_CONFIG: list });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toBe(`nlweb-chat: ${list}: CONFIG_ERR_INVALID\n  (root): must be object\n`);
    expect(listed.stdout).toBe('');

    const misspelt = path.join(dir, 'misspelt.yaml');
    writeFileSync(misspelt, 'server:\n  websocket:\n    heartbeat_intervall_s: 30\n  port: "8000"\n');
    const result = await run({ NLWEB_CHAT_CONFIG: misspelt, PORT: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `nlweb-chat: ${misspelt}: CONFIG_ERR_INVALID\n  server.port: must be integer\n  server.websocket.heartbeat_intervall_s: unknown key\n`,
    );
  });

  it('refuses dev auth on HOST=0.0.0.0 before anything starts: no stand-in, no storage file, no log line', async () => {
    const file = path.join(dir, 'dev.yaml');
    const db = path.join(dir, 'chat.db');
    writeFileSync(
      file,
      [
        'chat:',
        `  storage: { backend: sqlite, sqlite: { path: '${db}' } }`,
        '  nlweb:',
        '    endpoints: [{ id: nlweb, url: standin }]',
        '    standin: { enabled: true }',
        'observability: { log_level: info }',
      ].join('\n'),
    );
    const result = await run({ NLWEB_CHAT_CONFIG: file, HOST: '0.0.0.0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `nlweb-chat: ${file}: CONFIG_ERR_INVALID\n` +
        '  server.host: server.auth.mode "dev" trusts a user_id parameter and is only allowed on a loopback host, not "0.0.0.0"; use mode "jwt" (set by env HOST)\n',
    );
    // The stand-in logs when it listens and the storage opens the file: neither happened.
    expect(result.stdout).toBe('');
    expect(existsSync(db)).toBe(false);
  });

  it('refuses what only the server binary can check, every problem at once: endpoints, the stand-in, jwt, TLS', async () => {
    const file = path.join(dir, 'endpoints.yaml');
    writeFileSync(
      file,
      [
        'server:',
        '  auth: { mode: jwt }',
        `  tls: { cert_file: '${path.join(dir, 'missing-cert.pem')}' }`,
        'chat:',
        '  nlweb:',
        "    endpoints: [{ id: a, url: standin }, { id: a, url: 'http://127.0.0.1:1' }, { id: b, url: 'ftp://example.org' }]",
        '    standin: { enabled: false }',
      ].join('\n'),
    );
    const result = await run({ NLWEB_CHAT_CONFIG: file });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toEqual([
      `nlweb-chat: ${file}: CONFIG_ERR_INVALID`,
      '  server.auth.jwt_secret: is required when server.auth.mode is "jwt"',
      '  server.tls.key_file: must be set together with server.tls.cert_file',
      '  chat.nlweb.endpoints[0].url: "standin" needs the stand-in running (chat.nlweb.standin.enabled)',
      '  chat.nlweb.endpoints[1].id: duplicate id "a"',
      '  chat.nlweb.endpoints[2].url: must be an http(s) URL or "standin", got "ftp://example.org"',
      '',
    ]);
    expect(result.stdout).toBe('');
  });

  it('refuses chat.ownership.forward without an address: the other servers could never forward to this one', async () => {
    // Before, two replicas with forward: true and no NLWEB_CHAT_ADDRESS started, and every request for a conversation the
    // other held was 421 (Retry-After 15, no owner_address) with nothing logged: the clients forwarding is for do not follow it.
    const file = path.join(dir, 'forward.yaml');
    writeFileSync(file, 'chat:\n  ownership: { forward: true }\n  nlweb: { endpoints: [], standin: { enabled: false } }\n');
    const result = await run({ NLWEB_CHAT_CONFIG: file });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')).toEqual([
      `nlweb-chat: ${file}: CONFIG_ERR_INVALID`,
      '  chat.ownership.address: is required when chat.ownership.forward is true: the other servers forward requests for the conversations this one holds to the address it publishes (env NLWEB_CHAT_ADDRESS)',
      '',
    ]);
    expect(result.stdout).toBe('');
  });

  it('refuses a misspelt PostgreSQL or Redis URL scheme before connecting, naming the setting and the schemes it takes', async () => {
    // `postgress://` used to start and serve: pg ignores the scheme. The password never reaches stderr.
    const pg = await run({
      NLWEB_CHAT_STORAGE_BACKEND: 'postgres',
      NLWEB_CHAT_POSTGRES_URL: 'postgress://postgres:hunter2@127.0.0.1:5432/test',
    });
    expect(pg.code).toBe(1);
    expect(pg.stderr).toBe(
      'nlweb-chat: config_nlweb.yaml: CONFIG_ERR_INVALID\n' +
        '  chat.storage.postgres.url: must start with postgres:// or postgresql:// (not postgress://) (set by env NLWEB_CHAT_POSTGRES_URL)\n',
    );
    expect(pg.stdout).toBe('');
    const file = path.join(dir, 'redis.yaml');
    writeFileSync(file, "chat:\n  storage: { backend: redis, redis: { url: 'http://127.0.0.1:6379' } }\n");
    const redis = await run({ NLWEB_CHAT_CONFIG: file });
    expect(redis.code).toBe(1);
    expect(redis.stderr).toBe(
      `nlweb-chat: ${file}: CONFIG_ERR_INVALID\n  chat.storage.redis.url: must start with redis:// or rediss:// (not http://)\n`,
    );
    expect(redis.stdout).toBe('');
  });

  it('names the port in use and the setting that chose it, not only node\'s "listen EADDRINUSE"', async () => {
    // A second `npm start` while the first still runs on 8000 used to print node's message alone, with no word of PORT.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as net.AddressInfo;
      const result = await run({ PORT: String(port), NLWEB_CHAT_LOG_LEVEL: 'silent' });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `nlweb-chat: start-up failed: EADDRINUSE: 127.0.0.1:${port} is already in use (another nlweb-chat still running, or ` +
          'another program): stop it, or choose another port with server.port (env PORT; PORT=0 picks a free port)\n',
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('takes an empty NLWEB_CHAT_CONFIG as unset, as every other variable: ./config_nlweb.yaml is read', async () => {
    // It used to be the file name "": `nlweb-chat: : CONFIG_ERR_READ` / `cannot read : ENOENT ...`.
    const result = await run({ NLWEB_CHAT_CONFIG: '', PORT: 'abc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('nlweb-chat: config_nlweb.yaml: CONFIG_ERR_INVALID\n  server.port: must be integer (set by env PORT)\n');
  });

  it('exits 1 naming the file when NLWEB_CHAT_CONFIG does not exist', async () => {
    const result = await run({ NLWEB_CHAT_CONFIG: path.join(dir, 'missing.yaml') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('CONFIG_ERR_READ');
    expect(result.stderr).toContain('missing.yaml');
  });
});
