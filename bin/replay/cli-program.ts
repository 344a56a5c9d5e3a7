import fs from 'node:fs';
import { once } from 'node:events';
import nodePath from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ChatError, isChatError } from '../../actors/errors';
import type { ConversationMeta } from '../../actors/message-types';
import { withoutUrlPasswords } from '../storage-location';
import { EXIT } from './exit-codes';
import { listServerConversations, openServerSource } from './http-source';
import { openFollowSource, processInterrupts, type FollowSource, type InterruptSubscription } from './live-follow';
import { openJsonlSource, openStoreSource, type JournalSource } from './journal-source';
import { toJsonLine } from './jsonl';
import { runDiff } from './run-diff';
import { parseSenderIds } from './sender-filter';
import { runExport, runReplay, type ReplayIo } from './run-replay';
import { ServerRequestError, type ServerTarget } from './server-client';
import { openStorage, parseStorageSpec, resolvedFrom } from './storage-spec';

interface ServerOptions {
  readonly server?: string;
  readonly token?: string;
  readonly user?: string;
}

interface SourceOptions extends ServerOptions {
  readonly storage?: string;
  readonly file?: string;
}

/** What main needs beyond the output streams; the defaults are the process's. */
export interface MainIo extends ReplayIo {
  /** How `--follow` learns of Ctrl-C / SIGTERM (default: the process's signals). */
  readonly interrupts?: InterruptSubscription;
}

/** The code of a usage error (bad or missing options), as of a bad --storage spec or --server URL. */
const USAGE_ERROR = 'CONFIG_ERR_INVALID';

/** Far enough ahead that "created before" lists every conversation. */
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/**
 * The `nlweb-chat-replay` command line: `replay` (default), `export` and `list`.
 * Returns the exit code instead of exiting, so tests can run it in-process too.
 */
export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command('nlweb-chat-replay')
    .description("Read a conversation journal: timeline, one participant's view, invariant check, machine re-run, export, diff.")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      // Usage errors (commander's and ours) read like every other error of the CLI: `replay: <CODE>: <message>`.
      // Subcommands inherit this; the "(add --help for usage)" hint is written separately, after it.
      outputError: (s, write) => write(`replay: ${USAGE_ERROR}: ${s.replace(/^error: /, '')}`),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  nlweb-chat-replay c1 --storage sqlite:./chat.db',
        '  nlweb-chat-replay c1 --storage sqlite:./chat.db --as bob',
        '  nlweb-chat-replay c1 --storage sqlite:./chat.db --from 12 --to 12     (what was #12?)',
        '  nlweb-chat-replay c1 --storage sqlite:./chat.db --as bob --sender alice,nlweb     (alice and the AI, as bob saw them)',
        '  nlweb-chat-replay export c1 --storage postgres://chat@db/chat?schema=prod -o c1.jsonl',
        '  nlweb-chat-replay --file c1.jsonl --check --rerun',
        '  nlweb-chat-replay diff monday.jsonl tuesday.jsonl     (what changed between two exports of c1)',
        '  NLWEB_CHAT_TOKEN=... nlweb-chat-replay c1 --server http://127.0.0.1:8000 --check',
        '  nlweb-chat-replay c1 --server http://127.0.0.1:8000 --user alice     (dev mode)',
        '  nlweb-chat-replay c1 --server http://127.0.0.1:8000 --user alice --follow --check     (live, until Ctrl-C)',
        '',
        'Exit codes: 0 ok, 1 usage/IO error, 2 invariant violation (--check), 3 divergence (--rerun),',
        '  4 --follow ended by the server (the follower was removed, or the conversation deleted).',
        '  5 diff: the two exports differ.',
        'See docs/replay.md.',
      ].join('\n'),
    );

  const withServer = (cmd: Command): Command =>
    cmd
      .option('--server <url>', 'a running nlweb-chat server: http(s)://host:port (reads GET /chat/conversations/...)')
      .addOption(new Option('--token <bearer>', 'bearer token for --server').env('NLWEB_CHAT_TOKEN'))
      .option('--user <user_id>', 'for --server in dev mode (loopback): the caller, sent as user_id');
  const withSource = (cmd: Command): Command =>
    withServer(
      cmd
        .option('--storage <spec>', 'memory | sqlite:<file> | postgres://user@host/db[?schema=name] | redis://host:6379[/db][?prefix=p]')
        .option('--file <export.jsonl>', 'a journal written by `export`'),
    );

  withSource(
    program
      .command('replay [conversation_id]', { isDefault: true })
      .description('print the timeline (default), or check invariants / re-run the machine')
      .option('--json', 'JSON lines instead of text')
      .option('--as <participant>', 'only what this participant saw (between their join and leave records)')
      .option('--check', 'verify invariants; exit 2 on a violation')
      .option('--rerun', 're-run the journal through the conversation machine; exit 3 on a divergence')
      .option('--from <seq>', 'timeline: only records from this sequence id on', positiveInt)
      .option('--to <seq>', 'timeline: only records up to this sequence id (--from N --to N: one record)', positiveInt)
      .option(
        '--sender <ids>',
        'timeline: only records of these participant ids (comma-separated) and system records about them',
        parseSenderIds,
      )
      .option('--width <n>', 'content excerpt width', positiveInt, 80)
      .option('--max-reports <n>', 'violations/divergences printed (each); the rest are counted', positiveInt, 20)
      .option('--follow', '--server only: after what the server holds, print each new record as it is sequenced, until Ctrl-C'),
  ).action(async (conversationId: string | undefined, opts: SourceOptions & Record<string, unknown>, cmd: Command) => {
    if (opts.as !== undefined && (opts.check || opts.rerun))
      cmd.error('--as applies to the timeline; it cannot be combined with --check or --rerun');
    const from = opts.from as number | undefined;
    const to = opts.to as number | undefined;
    if ((from !== undefined || to !== undefined) && (opts.check || opts.rerun))
      cmd.error('--from and --to apply to the timeline; --check and --rerun read the whole journal');
    const senders = opts.sender as string[] | undefined;
    if (senders !== undefined && (opts.check || opts.rerun))
      cmd.error('--sender applies to the timeline; --check and --rerun read every record');
    if (from !== undefined && to !== undefined && from > to) cmd.error(`--from ${from} is after --to ${to}`);
    const follow = opts.follow === true;
    if (follow && opts.server === undefined && (opts.storage !== undefined || opts.file !== undefined))
      cmd.error(
        `--follow needs --server: ${opts.storage !== undefined ? 'a store' : 'an export file'} is read as it is now, and only a running server tells the CLI of each record as it sequences it (read the server that writes ${opts.storage !== undefined ? 'that store' : 'the conversation'} with --server <url> --follow)`,
      );
    if (follow && opts.rerun)
      cmd.error('--rerun re-runs a finished journal and cannot follow one; use --check --follow live, and --rerun afterwards');
    const source = follow
      ? await openFollow(cmd, conversationId, opts, io.interrupts ?? processInterrupts, io)
      : await openSource(cmd, conversationId, opts);
    try {
      exitCode = await runReplay(
        source,
        {
          json: opts.json === true,
          as: opts.as as string | undefined,
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(senders !== undefined ? { senders } : {}),
          check: opts.check === true,
          rerun: opts.rerun === true,
          width: opts.width as number,
          maxReports: opts.maxReports as number,
        },
        io,
      );
      const end = follow ? (source as FollowSource).ended() : undefined;
      if (end) {
        io.stderr.write(`replay: ${end.code}: stopped following: ${end.message}\n`);
        // A violation found on the way says more than how the follow ended.
        if (exitCode === EXIT.ok) exitCode = EXIT.followEnded;
      }
    } finally {
      await source.close();
    }
  });

  withSource(
    program
      .command('export [conversation_id]')
      .description('write the journal as JSONL: a header line, then one record per line')
      .option('-o, --output <file>', 'write to this file instead of stdout'),
  ).action(async (conversationId: string | undefined, opts: SourceOptions & { output?: string }, cmd: Command) => {
    const source = await openSource(cmd, conversationId, opts);
    try {
      if (opts.output === undefined) {
        await runExport(source, io.stdout, io);
        return;
      }
      const file = fs.createWriteStream(opts.output);
      const output = opts.output;
      await once(file, 'open').catch((err: unknown) => {
        // The bare errno (ENOENT: no such file or directory, open ...) did not say it was the output that failed.
        const why = err instanceof Error ? err.message : String(err);
        throw new ChatError('CONFIG_ERR_INVALID', `cannot write --output ${output}${resolvedFrom(output)}: ${why}`, { cause: err });
      });
      try {
        const n = await runExport(source, file, io);
        // The full path: `npm run replay` runs in the package's root, so a relative -o is not where it was typed.
        io.stderr.write(`exported ${n} records of ${source.conversationId} to ${nodePath.resolve(output)}\n`);
      } finally {
        file.end();
        await once(file, 'close');
      }
    } finally {
      await source.close();
    }
  });

  program
    .command('diff <old.jsonl> <new.jsonl>')
    .description('what changed between two exports of one conversation (added, removed, edited/redacted, replaced)')
    .option('--json', 'JSON lines instead of text')
    .option('--width <n>', 'content excerpt width', positiveInt, 80)
    .action(async (oldFile: string, newFile: string, opts: { json?: boolean; width: number }) => {
      const older = await openJsonlSource(oldFile);
      try {
        const newer = await openJsonlSource(newFile);
        try {
          exitCode = await runDiff(
            { name: oldFile, source: older },
            { name: newFile, source: newer },
            { json: opts.json === true, width: opts.width },
            io,
          );
        } finally {
          await newer.close();
        }
      } finally {
        await older.close();
      }
    });

  withServer(
    program
      .command('list')
      .description("list the conversations in a store, or the caller's on a server (oldest first)")
      .option('--storage <spec>', 'memory | sqlite:<file> | postgres://... | redis://...')
      .option('--json', 'JSON lines instead of text'),
  ).action(async (opts: ServerOptions & { storage?: string; json?: boolean }, cmd: Command) => {
    if ((opts.storage === undefined) === (opts.server === undefined)) cmd.error('give exactly one of --storage <spec> or --server <url>');
    const print = (id: string, meta: ConversationMeta | undefined, last: number): void => {
      if (opts.json) io.stdout.write(`${toJsonLine({ conversation_id: id, last_sequence_id: last, ...meta })}\n`);
      else io.stdout.write(`${id}\t${meta?.created_at ?? '-'}\t${meta?.status ?? '-'}\t${last} records\t${meta?.title ?? ''}\n`);
    };
    if (opts.server !== undefined) {
      for (const { meta, lastSequenceId } of await listServerConversations(serverTarget(opts)))
        print(meta.conversation_id, meta, lastSequenceId);
      return;
    }
    checkServerOnly(cmd, opts);
    const store = await openStorage(parseStorageSpec(opts.storage!));
    try {
      for (const id of await store.listConversationsCreatedBefore(END_OF_TIME)) {
        const [meta, last] = await Promise.all([store.getConversation(id), store.lastSequenceId(id)]);
        print(id, meta, last);
      }
    } finally {
      await store.close();
    }
  });

  try {
    await program.parseAsync(argv as string[], { from: 'node' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const coded = isChatError(err) || err instanceof ServerRequestError;
    const text = coded ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    io.stderr.write(`replay: ${withoutUrlPasswords(text)}\n`);
    return EXIT.usage;
  }
}

async function openSource(cmd: Command, conversationId: string | undefined, opts: SourceOptions): Promise<JournalSource> {
  checkOneSource(cmd, opts);
  if (opts.server === undefined) checkServerOnly(cmd, opts);
  if (opts.file !== undefined) return openJsonlSource(opts.file, conversationId);
  if (conversationId === undefined) cmd.error(`a conversation id is required with ${opts.server !== undefined ? '--server' : '--storage'}`);
  if (opts.server !== undefined) return openServerSource(serverTarget(opts), conversationId!);
  return openStoreSource(opts.storage!, conversationId!);
}

/** `--server ... --follow`: the same checks as openSource for --server, then the history pages and the live socket. */
async function openFollow(
  cmd: Command,
  conversationId: string | undefined,
  opts: SourceOptions,
  interrupts: InterruptSubscription,
  io: ReplayIo,
): Promise<FollowSource> {
  checkOneSource(cmd, opts);
  if (opts.server === undefined) cmd.error('--follow needs --server <url>');
  if (conversationId === undefined) cmd.error('a conversation id is required with --server');
  return openFollowSource(serverTarget(opts), conversationId!, {
    interrupts,
    note: (line) => void io.stderr.write(`replay: ${line}\n`),
  });
}

function checkOneSource(cmd: Command, opts: SourceOptions): void {
  const given = [opts.storage, opts.file, opts.server].filter((s) => s !== undefined).length;
  if (given !== 1) cmd.error('give exactly one of --storage <spec>, --file <export.jsonl> or --server <url>');
}

function serverTarget(opts: ServerOptions): ServerTarget {
  return {
    url: opts.server!,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    ...(opts.user !== undefined ? { user: opts.user } : {}),
  };
}

/** --user and --token mean nothing to a store or a file: saying so beats ignoring them (a token from the environment is fine). */
function checkServerOnly(cmd: Command, opts: ServerOptions): void {
  if (opts.user !== undefined || (opts.token !== undefined && cmd.getOptionValueSource('token') !== 'env'))
    cmd.error('--user and --token apply to --server only');
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
