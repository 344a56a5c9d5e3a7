import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, section, transpileExample, typeErrors } from './doc-examples';

describe('docs/errors.md, Details by code', () => {
  const source = fencedBlocks(section(readFileSync(join(repo, 'docs/errors.md'), 'utf8'), '## Details by code')).find(
    (b) => b.lang === 'ts',
  )!.body;

  it('type-checks against the built package: isChatError(err, code) types the details, no cast', () => {
    expect(typeErrors(source)).toBe('');
  });

  it('runs: reads the fields of each code (errors of the built package, shaped as the runtime throws them)', () => {
    const module = { exports: {} as { explain(err: unknown): string } };
    new Function('module', 'exports', 'require', transpileExample(source))(module, module.exports, require);
    const { explain } = module.exports;
    const { ChatError } = require(join(repo, 'dist/index.js')) as typeof import('../../actors/errors');
    const owned = new ChatError('CHAT_ERR_OWNED_ELSEWHERE', 'x', { details: { owner_id: 'b', owner_address: 'http://b:1' } });
    expect(explain(owned)).toBe('served by b at http://b:1');
    expect(explain(new ChatError('CHAT_ERR_UNKNOWN_AGENT', 'x', { details: { agent_ids: ['a', 'b'] } }))).toBe('no agent for a, b');
    const reused = new ChatError('CHAT_ERR_MESSAGE_ID_REUSED', 'x', { details: { message_id: 'm1', sequence_id: 7 } });
    expect(explain(reused)).toBe('m1 was accepted as #7 with other content');
    const conflict = new ChatError('CHAT_ERR_PARTICIPANT_ID_CONFLICT', 'x', { details: { participant_id: 'bob' } });
    expect(explain(conflict)).toBe('bob is named as both types');
    const schema = new ChatError('STORAGE_ERR_SCHEMA_VERSION', 'x', { details: { found_version: 1, expected_version: 3 } });
    expect(explain(schema)).toBe('schema version 1, this build needs 3');
  });
});
