import { readFileSync } from 'node:fs';
import path from 'node:path';
import { METRICS, SPANS } from '../../observability/telemetry-names';

/** docs/observability.md lists every metric and span of telemetry-names.ts, with the same type, unit and labels. */
describe('docs/observability.md and telemetry-names.ts', () => {
  const doc = readFileSync(path.resolve(__dirname, '../../docs/observability.md'), 'utf8');
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const m = /^\| `(nlweb_chat\.[a-z_.]+)` \|/.exec(line);
    if (m)
      rows.set(
        m[1],
        line
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
  }
  const kindWords = { counter: 'counter', updowncounter: 'up-down counter', histogram: 'histogram', gauge: 'gauge' } as const;

  it.each(Object.values(METRICS).map((m) => [m.name, m] as const))('documents %s', (name, spec) => {
    const row = rows.get(name);
    expect(row).toBeDefined();
    const [, prometheus, type, unit, labels] = row!;
    const base = name.replace(/\./g, '_');
    expect(prometheus).toBe(`\`${spec.kind === 'counter' ? `${base}_total` : base}\``);
    expect(type).toBe(kindWords[spec.kind]);
    expect(unit).toBe(spec.unit);
    const documented = labels === '—' ? [] : labels.split(',').map((l) => l.trim().replace(/`/g, ''));
    expect(documented).toEqual([...spec.labels]);
  });

  it('documents no metric that does not exist', () => {
    const known = new Set<string>(Object.values(METRICS).map((m) => m.name));
    expect([...rows.keys()].filter((n) => !known.has(n))).toEqual([]);
  });

  it('documents every span name', () => {
    for (const name of Object.values(SPANS)) expect(doc).toContain(`| \`${name}\` |`);
  });
});
