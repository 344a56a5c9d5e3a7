import { Command, CommanderError } from 'commander';
import type { MigrateOptions } from './migrate-command';
import { envHintFor } from './option-env-hints';

/** What each command of the server binary does; injected so the parsing is tested without starting anything. */
export interface ServerCommands {
  /** Runs the server until a signal; it sets the process's exit code itself. */
  serve(): Promise<void>;
  /** Resolves with the exit code (MIGRATE_EXIT). */
  migrate(options: MigrateOptions): Promise<number>;
}

export interface ServerCliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The code of a usage error, as the replay CLI reports its own. */
const USAGE_ERROR = 'CONFIG_ERR_INVALID';
const EXIT_USAGE = 1;

/** commander's "unknown option '--port'" plus the variable that sets it (`PORT=8080`), when there is one. */
function withEnvHint(message: string, argv: readonly string[]): string {
  const option = /^unknown option '([^']+)'/.exec(message)?.[1];
  const hint = option === undefined ? undefined : envHintFor(option, argv);
  if (hint === undefined) return message;
  return message.replace(/\n?$/, `: the server's settings are environment variables, here ${hint} (docs/configuration.md)\n`);
}

/**
 * The `nlweb-chat` command line: `serve` (the default: `nlweb-chat` alone, as `npm start` runs it, starts the server)
 * and `migrate [--check]`. Resolves with the exit code, or undefined when the server runs (it exits on its own).
 */
export async function runServerCli(argv: readonly string[], commands: ServerCommands, io: ServerCliIo): Promise<number | undefined> {
  let exitCode: number | undefined;
  const program = new Command('nlweb-chat')
    .description(
      'The nlweb-chat server. Config: NLWEB_CHAT_CONFIG (default ./config_nlweb.yaml) and the overrides of docs/configuration.md.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Usage errors read like the binary's other errors: `nlweb-chat: <CODE>: <message>`.
      outputError: (s, write) => write(`nlweb-chat: ${USAGE_ERROR}: ${withEnvHint(s.replace(/^error: /, ''), argv)}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  nlweb-chat                                   start the server (npm start)',
        "  nlweb-chat migrate                           apply the configured store's pending schema migrations",
        '  nlweb-chat migrate --check                   list them and exit 2 if any, changing nothing',
        '',
        'See docs/operations.md and docs/storage.md (Migrations).',
      ].join('\n'),
    );

  program
    .command('serve', { isDefault: true })
    .description('run the server until SIGTERM/SIGINT (the default)')
    // Words after the default command reach it as arguments: `nlweb-chat migrat` would read "too many arguments".
    .allowExcessArguments()
    .action(async (_opts: unknown, cmd: Command) => {
      if (cmd.args.length > 0) cmd.error(`unknown command '${cmd.args[0]}' (the commands: serve, migrate)`);
      await commands.serve();
    });

  program
    .command('migrate')
    .description(
      "apply the configured store's pending schema migrations and exit, printing the version before and after " +
        '(whatever chat.storage.migrations says); memory storage has nothing to migrate',
    )
    .option('--check', 'change nothing: print the pending versions, exit 2 if there are any, 0 if none')
    .action(async (opts: { check?: boolean }) => {
      exitCode = await commands.migrate({ check: opts.check === true });
    });

  try {
    await program.parseAsync(argv as string[], { from: 'node' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    throw err;
  }
}
