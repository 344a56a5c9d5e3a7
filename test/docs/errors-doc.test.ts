import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, type ErrorCode } from '../../actors/errors';

/** Rows of the table in docs/errors.md: | CODE | http | frame | close | meaning | */
function documentedRows(): Map<string, string[]> {
  const text = readFileSync(join(__dirname, '../../docs/errors.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length >= 6 && /^[A-Z]+_ERR_[A-Z_]+$/.test(cells[1])) rows.set(cells[1], cells.slice(2, 5));
  }
  return rows;
}

describe('docs/errors.md', () => {
  const rows = documentedRows();

  it('documents every error code with its http status, frame code and close code', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code)).toEqual([String(spec.http), String(spec.frame), 'close' in spec ? String(spec.close) : '']);
    }
  });

  it('documents no code that does not exist', () => {
    for (const code of rows.keys()) expect(Object.keys(ERROR_CODES)).toContain(code as ErrorCode);
  });

  it('uses the <AREA>_ERR_<DETAIL> naming for every code', () => {
    for (const code of Object.keys(ERROR_CODES)) expect(code).toMatch(/^(CHAT|AGENT|STORAGE|CONFIG|GATEWAY)_ERR_[A-Z_]+$/);
  });
});
