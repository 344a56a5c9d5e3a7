/** The node flags the server runs with (bin/server-node-flags.ts): what `npm start` passes, and that node takes them. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SERVER_NODE_FLAGS } from '../../bin/server-node-flags';

describe('SERVER_NODE_FLAGS', () => {
  it('are the flags of `npm start`, before the server script', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toBe(`exec node ${SERVER_NODE_FLAGS.join(' ')} dist/bin/nlweb-chat.js`);
  });

  it('are accepted by this node (an unknown V8 flag would stop `npm start` with "bad option")', () => {
    expect(execFileSync(process.execPath, [...SERVER_NODE_FLAGS, '-e', 'process.stdout.write("ran")'], { encoding: 'utf8' })).toBe('ran');
  });
});
