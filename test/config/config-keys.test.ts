/**
 * Guards for every key of the config schema, so a key cannot again be documented but read nowhere
 * (chat.context.ws_max_retries was), documented with another default, or given an override that does not work.
 * What each key does is shown where it is read; docs/configuration.md's table names the key, default and unit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import ts from 'typescript';
import { CONFIG_SCHEMA, ENV_OVERRIDES, loadConfig, validateConfig } from '../../config';

type SchemaNode = Record<string, unknown>;
const repo = join(__dirname, '../..');

/** Every leaf of the schema with its node, arrays as `[]` (the array itself is a row too: it has a default). */
function leaves(node: SchemaNode, prefix = ''): Array<[string, SchemaNode]> {
  if (node.type === 'array') {
    // An array of scalars (server.allowed_origins) is one row: its items have no keys of their own.
    const items = node.items as SchemaNode;
    return [[`${prefix}[]`, node], ...(items.properties ? leaves(items, `${prefix}[]`) : [])];
  }
  const props = node.properties as Record<string, SchemaNode> | undefined;
  if (!props) return [[prefix, node]];
  return Object.entries(props).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function schemaAt(path: readonly string[]): SchemaNode {
  return path.reduce((node, key) => (node.properties as Record<string, SchemaNode>)[key]!, CONFIG_SCHEMA);
}

function valueAt(config: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
}

/** The default column of docs/configuration.md's table, by key. */
function documentedDefaults(): Map<string, string> {
  const doc = readFileSync(join(repo, 'docs/configuration.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([^`]+)` \| ([^|]+) \|/gm)) rows.set(m[1]!, m[2]!.trim());
  return rows;
}

/** How the table writes a default: `value`, `""` for the empty string, — for none (required). */
function docForm(value: unknown): string {
  if (value === undefined) return '—';
  if (value === '') return '`""`';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

/** Property names read in the code outside config/ and test/ (property accesses and destructuring, not comments). */
function namesReadInCode(): Set<string> {
  const names = new Set<string>();
  const dirs = ['actors', 'gateway', 'storage-providers', 'client', 'bin', 'observability', 'testing'];
  const files = dirs.flatMap((d) =>
    (readdirSync(join(repo, d), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(repo, d, f)),
  );
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) names.add(node.name.text);
      if (ts.isBindingElement(node)) {
        const name = node.propertyName ?? node.name;
        if (ts.isIdentifier(name)) names.add(name.text);
      }
      if (ts.isElementAccessExpression(node) && ts.isStringLiteral(node.argumentExpression)) names.add(node.argumentExpression.text);
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return names;
}

describe('every config key', () => {
  const all = leaves(CONFIG_SCHEMA);

  it('is in docs/configuration.md with the default the schema gives it', () => {
    const rows = documentedDefaults();
    const wrong: string[] = [];
    for (const [path, node] of all) {
      const row = rows.get(path);
      if (row === undefined) wrong.push(`${path}: no row`);
      else if (!row.startsWith(docForm(node.default))) wrong.push(`${path}: documented ${row}, schema ${docForm(node.default)}`);
    }
    expect(wrong).toEqual([]);
    // And no row for a key the schema does not have (a removed or misspelt key).
    const known = new Set(all.map(([path]) => path));
    expect([...rows.keys()].filter((key) => !known.has(key))).toEqual([]);
  });

  it('is read by the code outside config/ (a property access or destructuring, not a comment)', () => {
    const read = namesReadInCode();
    const unread = all
      .map(([path]) => path)
      .filter(
        (path) =>
          path !== '' &&
          !read.has(
            path
              .split(/[.[\]]+/)
              .filter(Boolean)
              .pop()!,
          ),
      );
    expect(unread).toEqual([]);
  });

  it('in the shipped config_nlweb.yaml has the schema default, except the NLWeb endpoint and its stand-in', () => {
    const shipped = yaml.load(readFileSync(join(repo, 'config_nlweb.yaml'), 'utf8'));
    const defaults = validateConfig({});
    const differing: string[] = [];
    const walk = (node: unknown, path: string[]): void => {
      if (typeof node === 'object' && node !== null && !Array.isArray(node)) {
        for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
      } else if (JSON.stringify(node) !== JSON.stringify(valueAt(defaults, path))) differing.push(path.join('.'));
    };
    walk(shipped, []);
    expect(differing).toEqual(['chat.nlweb.endpoints', 'chat.nlweb.standin.enabled']);
  });
});

describe('every environment override', () => {
  /** A valid value for the key that is not its default, so setting it is seen. */
  function otherValue(node: SchemaNode): unknown {
    if (Array.isArray(node.enum)) return node.enum.find((v) => v !== node.default);
    if (node.type === 'boolean') return !node.default;
    if (node.type === 'integer' || node.type === 'number') {
      const next = (node.default as number) + 1;
      return next <= (node.maximum as number) ? next : node.minimum;
    }
    // Underscores, not dashes: a string key with a pattern (an SQL identifier) takes this one too.
    return 'set_by_env';
  }

  it.each(ENV_OVERRIDES.map((o) => [o.env, o]))('%s sets its key', (_name, { env, path }) => {
    const value = otherValue(schemaAt(path));
    const config = loadConfig({ env: { [env]: String(value) } });
    expect(valueAt(config, path)).toEqual(value);
    // And is documented on its key's row.
    const row = readFileSync(join(repo, 'docs/configuration.md'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`| \`${path.join('.')}\` |`));
    expect(row).toContain(`\`${env}\``);
  });
});
