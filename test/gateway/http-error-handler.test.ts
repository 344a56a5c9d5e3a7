import type { GatewayLogger } from '../../gateway';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

/** A logger that keeps every error-level message (the others are dropped). */
function errorRecorder(errors: unknown[]): GatewayLogger {
  const logger: GatewayLogger = {
    info: () => undefined,
    warn: () => undefined,
    debug: () => undefined,
    error: (obj, msg) => void errors.push({ obj, msg }),
    child: () => logger,
  };
  return logger;
}

describe('HTTP error mapping', () => {
  // Regression: express's "Failed to decode param" (a URIError with status 400) answered 500 and logged a stack.
  test('a badly percent-encoded path parameter answers 400 on every route that has one, logging no error', async () => {
    const errors: unknown[] = [];
    const h = await startHarness({}, { logger: errorRecorder(errors) });
    const bad = '%E0%A4%A';
    const routes: [string, string, unknown?][] = [
      ['GET', `/chat/conversations/${bad}`],
      ['GET', `/chat/conversations/${bad}/messages`],
      ['POST', `/chat/conversations/${bad}/messages`, { message_id: 'm1', content: 'hi' }],
      ['POST', `/chat/conversations/${bad}/join`],
      ['POST', `/chat/conversations/${bad}/leave`],
      ['DELETE', `/chat/conversations/${bad}/participants/me`],
      ['POST', `/chat/conversations/${bad}/redact`, { sender_id: 'bob' }],
      ['POST', `/chat/${bad}/join`],
      ['DELETE', `/chat/${bad}/leave`],
    ];
    for (const [method, path, body] of routes) {
      const res = await h.request(method, path, 'alice', body);
      expect({ route: `${method} ${path}`, status: res.status, body: res.body }).toEqual({
        route: `${method} ${path}`,
        status: 400,
        body: { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: 'invalid path parameter: not valid percent-encoding' },
      });
    }
    expect(errors).toEqual([]);
  });
});
