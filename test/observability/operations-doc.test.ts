import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ENV_OVERRIDES } from '../../config/config-schema';

describe('docs/operations.md', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../docs/operations.md'), 'utf8');

  it.each(ENV_OVERRIDES.map((o) => [o.env, o.path.join('.')]))('lists the override %s for %s', (env, key) => {
    expect(doc).toContain(`| \`${env}\` | \`${key}\``);
  });
});
