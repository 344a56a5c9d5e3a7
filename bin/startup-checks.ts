import { accessSync, constants } from 'node:fs';
import { endpointProblems } from '../actors/agents/create-agents-from-config';
import type { NlwebChatConfig } from '../config/config-types';
import type { ConfigProblem } from '../config/load-config';
import { serverConfigProblems } from '../gateway/server-config-checks';

/**
 * Everything the server binary would refuse once it has started something (the gateway's auth and TLS rules,
 * unreadable TLS files, the agents' endpoints), asked while the config is loaded: a config error then stops it
 * before the SDK, the storage or the stand-in start (docs/operations.md: nothing listens on a config error).
 */
export function startupProblems(config: NlwebChatConfig): ConfigProblem[] {
  return [
    ...serverConfigProblems(config, { customAuthenticator: false }),
    ...tlsFileProblems(config),
    ...endpointProblems(config, config.chat.nlweb.standin.enabled),
  ];
}

/** The stand-in runs only when enabled and some endpoint uses it: otherwise nothing would call it. */
export function standinWanted(config: NlwebChatConfig): boolean {
  return config.chat.nlweb.standin.enabled && config.chat.nlweb.endpoints.some((e) => e.url === 'standin');
}

function tlsFileProblems(config: NlwebChatConfig): ConfigProblem[] {
  const { cert_file, key_file } = config.server.tls;
  // Only a complete pair is read; a half one is serverConfigProblems' to report.
  if (cert_file === '' || key_file === '') return [];
  const problems: ConfigProblem[] = [];
  for (const [key, file] of [
    ['cert_file', cert_file],
    ['key_file', key_file],
  ] as const) {
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      problems.push({ path: `server.tls.${key}`, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    }
  }
  return problems;
}
