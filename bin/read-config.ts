import { existsSync } from 'node:fs';
import { isChatError } from '../actors/errors';
import type { NlwebChatConfig } from '../config/config-types';
import { loadConfig, type ConfigProblem } from '../config/load-config';

/**
 * The config of the server binary's commands: the file named by NLWEB_CHAT_CONFIG (which must exist), else
 * ./config_nlweb.yaml when it exists, else defaults; environment overrides on top. A refused config is written to
 * stderr, every problem with its YAML path, and gives undefined (the command exits 1). `checks`: what the command
 * would refuse later (the server's start-up checks); `migrate` needs none of them (no TLS files, no agents).
 */
export function readConfig(
  env: NodeJS.ProcessEnv,
  checks?: (config: NlwebChatConfig) => readonly ConfigProblem[],
): NlwebChatConfig | undefined {
  // Empty counts as unset, as for every other variable (docs/configuration.md): a compose file's
  // `NLWEB_CHAT_CONFIG=${CONFIG}` with nothing set used to stop start-up with "cannot read : ENOENT".
  const explicit = env.NLWEB_CHAT_CONFIG === '' ? undefined : env.NLWEB_CHAT_CONFIG;
  const file = explicit ?? 'config_nlweb.yaml';
  // An explicitly named file must exist; the default one is optional (defaults + env overrides apply).
  const useFile = explicit !== undefined || existsSync(file);
  try {
    return loadConfig({ ...(useFile ? { file } : {}), env, ...(checks ? { checks } : {}) });
  } catch (err) {
    if (isChatError(err, 'CONFIG_ERR_INVALID') || isChatError(err, 'CONFIG_ERR_READ')) {
      const problems = (err.details?.problems as ConfigProblem[] | undefined) ?? [];
      process.stderr.write(`nlweb-chat: ${useFile ? file : 'configuration'}: ${err.code}\n`);
      if (problems.length === 0) process.stderr.write(`  ${err.message}\n`);
      for (const p of problems) process.stderr.write(`  ${p.path || '(root)'}: ${p.message}\n`);
      return undefined;
    }
    throw err;
  }
}
