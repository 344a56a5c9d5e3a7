/**
 * Config keys only the server binary reads (bin/nlweb-chat.ts), shown to change what the running server does.
 * Keys the runtime, gateway and stores read are shown where those are tested (docs/configuration.md's table).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServerProcess, type ServerProcess } from './server-process';

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

describe('config keys the server binary reads', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-effects-'))));
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serverWith(yaml: string): Promise<ServerProcess> {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, yaml);
    const server = await startServerProcess({ NLWEB_CHAT_CONFIG: file });
    servers.push(server);
    return server;
  }

  it('chat.context.ws_max_retries: the page the server serves gives up after that many attempts (it was read nowhere)', async () => {
    const server = await serverWith('chat:\n  context:\n    ws_max_retries: 3\n');
    const page = await (await fetch(`${server.url}/`)).text();
    expect(page).toContain('<meta name="nlweb-chat-max-retries" content="3" />');
  });
});
