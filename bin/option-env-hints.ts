import { ENV_OVERRIDES } from '../config/config-schema';
import { withoutUrlPasswords } from './storage-location';

/** The variables a server option is most likely meant as, besides the overrides named `<NAME>` or `NLWEB_CHAT_<NAME>`. */
const ALIASES: Readonly<Record<string, string>> = { config: 'NLWEB_CHAT_CONFIG', 'config-file': 'NLWEB_CHAT_CONFIG', p: 'PORT' };

/**
 * For an unknown option of the server binary (`--port 8080`, `--host=0.0.0.0`, `--config x.yaml`): the environment
 * variable that sets it, with the value given, as `PORT=8080`. The server takes no setting options: "unknown option"
 * alone left the reader to find out that settings are variables (docs/configuration.md). Undefined when no variable
 * matches the option's name.
 */
export function envHintFor(option: string, argv: readonly string[]): string | undefined {
  const [flag, inline] = splitInline(option);
  const name = flag.replace(/^-+/, '').toLowerCase();
  const upper = name.replace(/-/g, '_').toUpperCase();
  const env = ALIASES[name] ?? ENV_OVERRIDES.find((o) => o.env === upper || o.env === `NLWEB_CHAT_${upper}`)?.env;
  if (env === undefined) return undefined;
  const value = inline ?? valueAfter(flag, argv) ?? (isBoolean(env) ? 'true' : '<value>');
  // The message reaches logs: a secret or a URL's password typed as an option is not repeated there.
  if (env.endsWith('_SECRET')) return `${env}=<secret>`;
  return `${env}=${shellWord(withoutUrlPasswords(value))}`;
}

function splitInline(option: string): [string, string | undefined] {
  const at = option.indexOf('=');
  return at < 0 ? [option, undefined] : [option.slice(0, at), option.slice(at + 1)];
}

/** The word after the option, unless it is another option. */
function valueAfter(flag: string, argv: readonly string[]): string | undefined {
  const next = argv[argv.indexOf(flag) + 1];
  return argv.includes(flag) && next !== undefined && !next.startsWith('-') ? next : undefined;
}

function isBoolean(env: string): boolean {
  return ENV_OVERRIDES.some((o) => o.env === env && o.type === 'boolean');
}

/** The value as typed in a shell: quoted when it holds anything but plain characters (the placeholder is shown as is). */
function shellWord(value: string): string {
  if (value === '<value>' || /^[A-Za-z0-9_.,:/@%+=-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
