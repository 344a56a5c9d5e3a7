import { runServerCli, type ServerCommands } from '../../bin/server-cli';

/** Runs the server's command line on `args`, with commands that fail the test if the parsing reached them. */
async function usage(...args: string[]): Promise<{ code: number | undefined; stderr: string }> {
  let stderr = '';
  const commands: ServerCommands = {
    serve: () => Promise.reject(new Error('serve ran')),
    migrate: () => Promise.reject(new Error('migrate ran')),
  };
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await runServerCli(['node', 'nlweb-chat', ...args], commands, io);
  return { code, stderr };
}

const line = (option: string, hint: string) =>
  `nlweb-chat: CONFIG_ERR_INVALID: unknown option '${option}': the server's settings are environment variables, here ${hint} ` +
  '(docs/configuration.md)\n(add --help for usage)\n';

// The server takes no setting options; "unknown option '--port'" alone did not say that PORT is how.
describe('an unknown option of nlweb-chat names the variable that sets it', () => {
  test.each([
    [['--port', '8080'], '--port', 'PORT=8080'],
    [['--port=8080'], '--port=8080', 'PORT=8080'],
    [['-p', '8080'], '-p', 'PORT=8080'],
    [['--host', '0.0.0.0'], '--host', 'HOST=0.0.0.0'],
    [['--config', 'prod.yaml'], '--config', 'NLWEB_CHAT_CONFIG=prod.yaml'],
    [['migrate', '--config', 'prod.yaml'], '--config', 'NLWEB_CHAT_CONFIG=prod.yaml'],
    [['--log-level', 'debug'], '--log-level', 'NLWEB_CHAT_LOG_LEVEL=debug'],
    [['--require-tls'], '--require-tls', 'NLWEB_CHAT_REQUIRE_TLS=true'],
    [['--host'], '--host', 'HOST=<value>'],
    [['--sqlite-path', 'my chat.db'], '--sqlite-path', "NLWEB_CHAT_SQLITE_PATH='my chat.db'"],
  ])('%j', async (args, option, hint) => {
    expect(await usage(...args)).toEqual({ code: 1, stderr: line(option, hint) });
  });

  test('a secret or a URL password given as an option is not repeated in the message', async () => {
    expect((await usage('--jwt-secret', 's3cret')).stderr).toBe(line('--jwt-secret', 'NLWEB_CHAT_JWT_SECRET=<secret>'));
    const url = await usage('--postgres-url', 'postgres://chat:pw@db/chat');
    expect(url.stderr).toBe(line('--postgres-url', "NLWEB_CHAT_POSTGRES_URL='postgres://chat:***@db/chat'"));
  });

  test("an option no variable matches keeps commander's message alone", async () => {
    expect(await usage('--portt', '1')).toEqual({
      code: 1,
      stderr: "nlweb-chat: CONFIG_ERR_INVALID: unknown option '--portt'\n(add --help for usage)\n",
    });
  });
});
