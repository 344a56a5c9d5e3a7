import { unrefTimer, type Clock } from './clock';
import type { ErrorCode } from './errors';

/** One failed agent call, as the conversation that made it saw it. */
export interface AgentFailure {
  readonly conversationId: string;
  readonly agentId: string;
  /** Where the call went (Agent.baseUrl); absent for in-process agents. */
  readonly url?: string;
  readonly code: ErrorCode;
  /** The failure's message: the conversation shows the same text, so no message content is in it. */
  readonly reason: string;
  /** What an in-process agent threw (not a ChatError), logged with the first line so its author sees the stack. */
  readonly err?: unknown;
}

/** The part of the logger this needs (pino's `warn(fields, msg)`), so tests can pass a recording double. */
export interface AgentFailureLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface AgentFailureLogOptions {
  readonly logger: AgentFailureLogger;
  readonly clock: Clock;
  /** Length of the window in which an agent's further failures are only counted. Default 60 s. */
  readonly windowMs?: number;
}

/** Distinct conversations counted per window: enough to tell one busy conversation from many, bounded memory. */
const MAX_COUNTED_CONVERSATIONS = 1000;

interface AgentWindow {
  timer: unknown;
  url: string | undefined;
  count: number;
  codes: Partial<Record<ErrorCode, number>>;
  conversations: Set<string>;
  lastConversationId: string | undefined;
}

/**
 * Writes agent call failures to the log at warn, rate-limited per agent (docs/observability.md, Logs): a dead
 * endpoint fails every turn of every conversation that uses it, and one line per failure would flood the log.
 * An agent's first failure is written at once and opens a window; failures within it are counted, and at its
 * end one summary line says how many (and a new window opens). A window without failures ends the limiting,
 * so the next failure is written at once again. One per runtime: the limit is per agent across conversations.
 */
export class AgentFailureLog {
  private readonly windows = new Map<string, AgentWindow>();
  private readonly windowMs: number;
  private closed = false;

  constructor(private readonly options: AgentFailureLogOptions) {
    this.windowMs = options.windowMs ?? 60_000;
  }

  report(failure: AgentFailure): void {
    if (this.closed) return;
    const window = this.windows.get(failure.agentId);
    if (window) {
      window.count += 1;
      window.codes[failure.code] = (window.codes[failure.code] ?? 0) + 1;
      if (window.conversations.size < MAX_COUNTED_CONVERSATIONS) window.conversations.add(failure.conversationId);
      window.lastConversationId = failure.conversationId;
      window.url = failure.url;
      return;
    }
    this.options.logger.warn(
      {
        conversation_id: failure.conversationId,
        agent_id: failure.agentId,
        url: failure.url ?? null,
        code: failure.code,
        reason: failure.reason,
        ...(failure.err === undefined ? {} : { err: failure.err }),
      },
      'agent call failed',
    );
    this.open(failure.agentId, failure.url);
  }

  /** Writes the summaries still pending and stops every timer; later reports are dropped. */
  close(): void {
    this.closed = true;
    for (const [agentId, window] of this.windows) {
      this.options.clock.clearTimeout(window.timer);
      this.summarize(agentId, window);
    }
    this.windows.clear();
  }

  private open(agentId: string, url: string | undefined): void {
    const window: AgentWindow = {
      timer: undefined,
      url,
      count: 0,
      codes: {},
      conversations: new Set(),
      lastConversationId: undefined,
    };
    // unref'd: a pending summary must not keep a process alive that has nothing else to do.
    window.timer = unrefTimer(this.options.clock.setTimeout(() => this.windowEnded(agentId, window), this.windowMs));
    this.windows.set(agentId, window);
  }

  private windowEnded(agentId: string, window: AgentWindow): void {
    this.windows.delete(agentId);
    if (window.count === 0) return;
    this.summarize(agentId, window);
    // Still failing: the next summary comes no sooner than one more window.
    this.open(agentId, window.url);
  }

  private summarize(agentId: string, window: AgentWindow): void {
    if (window.count === 0) return;
    this.options.logger.warn(
      {
        agent_id: agentId,
        url: window.url ?? null,
        count: window.count,
        codes: window.codes,
        conversations: window.conversations.size,
        last_conversation_id: window.lastConversationId,
        window_s: this.windowMs / 1000,
      },
      'agent calls failed',
    );
  }
}
