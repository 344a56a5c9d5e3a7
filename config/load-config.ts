import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject } from 'ajv';
import yaml from 'js-yaml';
import { ChatError } from '../actors/errors';
import { CONFIG_SCHEMA, ENV_OVERRIDES } from './config-schema';
import { crossKeyProblems } from './cross-key-checks';
import type { ConfigInput, NlwebChatConfig } from './config-types';

/** One problem found in a config, with the YAML path it sits at (e.g. `chat.limits.queue_size`). */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** CONFIG_ERR_INVALID for options an embedder passed: one "path: message" line per problem, and them in `details.problems`. */
export function configProblemsError(problems: readonly ConfigProblem[]): ChatError {
  return new ChatError('CONFIG_ERR_INVALID', problems.map((p) => `${p.path}: ${p.message}`).join('\n'), { details: { problems } });
}

export interface LoadConfigOptions {
  /** Path of config_nlweb.yaml; omit to use only defaults + overrides. */
  readonly file?: string;
  /** Environment for overrides (defaults to none: pass process.env explicitly in entry points). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Programmatic overrides, applied after the file and the environment. */
  readonly overrides?: ConfigInput;
  /**
   * The caller's own rules, run on a config the schema accepted; their problems are reported like the schema's
   * (with the environment variable behind a key). The server binary passes what its gateway and agents would
   * refuse later, so a config error stops it before anything starts.
   */
  readonly checks?: (config: NlwebChatConfig) => readonly ConfigProblem[];
}

/** load → override → validate (all errors, with YAML paths) → deep-freeze. */
export function loadConfig(options: LoadConfigOptions = {}): NlwebChatConfig {
  let raw: unknown = {};
  if (options.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new ChatError('CONFIG_ERR_READ', `cannot read ${options.file}: ${(err as Error).message}`, { cause: err });
    }
    try {
      raw = yaml.load(text) ?? {};
    } catch (err) {
      throw new ChatError('CONFIG_ERR_INVALID', `${options.file} is not valid YAML: ${(err as Error).message}`, {
        cause: err,
        details: { problems: [{ path: '', message: (err as Error).message }] },
      });
    }
  }
  const env = options.env ?? {};
  const overrides = options.overrides ?? {};
  return checkConfig(mergeAll(raw, envOverrides(env), overrides), envSources(env, overrides), options.checks);
}

/** Validates a plain object (applying defaults) and returns the frozen config, or throws CONFIG_ERR_INVALID. */
export function validateConfig(input: unknown): NlwebChatConfig {
  return checkConfig(input, new Map());
}

/**
 * The config an entry point (runtime, gateway, server) works with: a loadConfig/validateConfig result as it is,
 * anything else (a partial object, or none) validated here with every default applied. Every entry point takes
 * the same input, so one object can be handed to all of them.
 */
export function resolveConfig(input: NlwebChatConfig | ConfigInput | undefined): NlwebChatConfig {
  return isValidated(input) ? input : validateConfig(input ?? {});
}

function isValidated(config: unknown): config is NlwebChatConfig {
  // loadConfig/validateConfig deep-freeze their result; anything else is validated.
  return typeof config === 'object' && config !== null && Object.isFrozen(config) && 'chat' in config && 'server' in config;
}

/**
 * validateConfig, naming the environment variable behind a problem at a key one set (`envByPath`: YAML path →
 * variable): the value is not in the file, which is where the reader would otherwise look for it.
 */
function checkConfig(
  input: unknown,
  envByPath: ReadonlyMap<string, string>,
  checks?: (config: NlwebChatConfig) => readonly ConfigProblem[],
): NlwebChatConfig {
  const candidate = structuredClone(input ?? {});
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
  const validate = ajv.compile(CONFIG_SCHEMA);
  const schemaProblems = validate(candidate) ? [] : (validate.errors ?? []).map(toProblem);
  const crossKey = crossKeyProblems(candidate, new Set(schemaProblems.map((p) => p.path)));
  // The caller's rules read a typed config, which only a candidate without problems is.
  const callers = schemaProblems.length === 0 && crossKey.length === 0 && checks ? checks(candidate as NlwebChatConfig) : [];
  const problems = [...schemaProblems, ...crossKey, ...callers].map((p) => {
    const env = envByPath.get(p.path);
    return env === undefined ? p : { ...p, message: `${p.message} (set by env ${env})` };
  });
  if (problems.length > 0) {
    const summary = problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n');
    throw new ChatError('CONFIG_ERR_INVALID', `configuration is invalid:\n${summary}`, { details: { problems } });
  }
  return deepFreeze(candidate as NlwebChatConfig);
}

function toProblem(error: ErrorObject): ConfigProblem {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') {
    segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
    return { path: toYamlPath(segments), message: 'unknown key' };
  }
  if (error.keyword === 'required') {
    segments.push(String((error.params as { missingProperty: string }).missingProperty));
    return { path: toYamlPath(segments), message: 'is required' };
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return { path: toYamlPath(segments), message: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  return { path: toYamlPath(segments), message: error.message ?? error.keyword };
}

function toYamlPath(segments: string[]): string {
  return segments.reduce((acc, s) => (/^\d+$/.test(s) ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

/**
 * A number as an environment variable may give it: decimal, optionally with a fraction and an exponent,
 * surrounding blanks allowed. Number() also reads 0x…, 0b…, 0o… and Infinity, which would turn a typo into
 * another value without a word; those stay strings and are reported at the key.
 */
const DECIMAL = /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function envOverrides(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { env: name, path, type } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    // Wrong types stay strings so validation reports them at the key's path.
    let parsed: unknown = value;
    if (type === 'number' && DECIMAL.test(value)) parsed = Number(value);
    if (type === 'boolean' && (value === 'true' || value === 'false')) parsed = value === 'true';
    let node = out;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1]] = parsed;
  }
  return out;
}

/** YAML path → name of each variable that set a key (unless a programmatic override set it again). */
function envSources(env: Readonly<Record<string, string | undefined>>, overrides: unknown): Map<string, string> {
  const sources = new Map<string, string>();
  for (const { env: name, path } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '' || setsPath(overrides, path)) continue;
    sources.set(path.join('.'), name);
  }
  return sources;
}

function setsPath(layer: unknown, path: readonly string[]): boolean {
  let node = layer;
  for (const key of path) {
    if (!isPlainObject(node) || node[key] === undefined) return false;
    node = node[key];
  }
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function mergeAll(...layers: unknown[]): unknown {
  return layers.reduce((acc, layer) => merge(acc, layer), {});
}

function merge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(over)) return over === undefined ? base : over;
  // A section set to something else (`server: 5`, a file that is a list) stays as it is, so validation names
  // it: replacing it with the object an env variable or override builds would hide the mistake.
  if (base === undefined) return over;
  if (!isPlainObject(base)) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
