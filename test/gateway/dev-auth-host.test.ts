import http from 'node:http';
import { closeAll, startHarness } from './harness';
import { upgradeRefusal } from './ws-test-client';

afterEach(closeAll);

/** A GET with headers fetch will not set (Host): status and JSON body. */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
  });
}

const devMode = { server: { auth: { mode: 'dev' as const } } };

describe('development authentication answers loopback callers only', () => {
  test('a page of a DNS-rebound name (Host and Origin evil.example:<port>) is refused 401, over HTTP and WebSocket', async () => {
    const h = await startHarness(devMode);
    const port = new URL(h.url).port;
    const own = await get(`${h.url}/chat/conversations?user_id=alice`, {});
    expect(own.status).toBe(200);
    const rebound = { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` };
    expect(await get(`${h.url}/chat/conversations?user_id=alice`, rebound)).toEqual({
      status: 401,
      body: {
        error: 'GATEWAY_ERR_UNAUTHENTICATED',
        code: 401,
        message: 'development authentication serves loopback requests only: Host "evil.example" is not a loopback name',
      },
    });
    const created = await h.request('POST', '/chat/conversations?user_id=alice', undefined, { title: 't', auto_join_agents: false });
    expect(created.status).toBe(201);
    const ws = await upgradeRefusal(`${h.url.replace(/^http/, 'ws')}/chat/ws/${created.body.conversation_id}?user_id=alice`, rebound);
    expect(ws).toMatchObject({ status: 401, body: { error: 'GATEWAY_ERR_UNAUTHENTICATED' } });
  });

  test('loopback names pass: localhost, 127.0.0.0/8, [::1]', async () => {
    const h = await startHarness(devMode);
    const port = new URL(h.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.2:${port}`, `[::1]:${port}`, 'LOCALHOST', `app.localhost:${port}`]) {
      expect({ host, status: (await get(`${h.url}/chat/conversations?user_id=alice`, { Host: host })).status }).toEqual({
        host,
        status: 200,
      });
    }
  });

  test('a request a proxy forwarded (X-Forwarded-For, Forwarded) is refused: its caller need not be on this machine', async () => {
    const h = await startHarness(devMode);
    const forwarded: Record<string, string>[] = [{ 'X-Forwarded-For': '203.0.113.9' }, { Forwarded: 'for=203.0.113.9' }];
    for (const header of forwarded) {
      expect(await get(`${h.url}/chat/conversations?user_id=alice`, header)).toEqual({
        status: 401,
        body: {
          error: 'GATEWAY_ERR_UNAUTHENTICATED',
          code: 401,
          message: `development authentication serves loopback requests only: this one came through a proxy (${Object.keys(header)[0]})`,
        },
      });
    }
  });
});
