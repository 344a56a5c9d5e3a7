/**
 * The "Add agent" choice of the chat page's member form: a select of the agents the server answers with
 * (GET /chat/agents, docs/http-api.md), so nobody types an agent id blind. Asked the first time the select is
 * focused or pressed, not on page load: a page load's reads are counted against the user's read budget, and most
 * visits add no agent. A failed listing is said on the error line and asked again at the next focus.
 */
import { showApiError, showError } from './error-line';
import { retryAfterMs, type ApiErrorBody, type PageApi } from './page-api';
import { el } from './page-elements';

/** One entry of GET /chat/agents. */
interface ListedAgent {
  readonly agent_id: string;
  readonly display_name: string;
}

export interface AgentChoice {
  /** The chosen agent's id, or undefined while none is chosen. */
  chosen(): string | undefined;
  /** The chosen agent's configured name, for messages. */
  nameOf(agentId: string): string;
  /** Back to "Choose an agent" after an add. */
  reset(): void;
}

export function wireAgentChoice(api: PageApi): AgentChoice {
  const select = el<HTMLSelectElement>('add-agent-id');
  const names = new Map<string, string>();
  let state: 'unasked' | 'asking' | 'listed' = 'unasked';
  /** The error line says a listing failed: cleared once a listing comes, and only then (it may say something else). */
  let failed = false;

  const placeholder = (text: string): void => {
    select.replaceChildren(new Option(text, ''));
  };

  async function list(): Promise<void> {
    if (state !== 'unasked') return;
    state = 'asking';
    placeholder('Loading agents…');
    try {
      const res = await api('/chat/agents');
      const body = (await res.json().catch(() => ({}))) as ApiErrorBody & { agents?: ListedAgent[] };
      if (!res.ok || !Array.isArray(body.agents)) {
        state = 'unasked';
        failed = true;
        placeholder('Choose an agent');
        // GET spends the read budget, not the message budget: its 429 is not "sending too fast". Asked again at the
        // next focus, not on a timer (showReadLimited says "trying again"), so the wait is said as the user's.
        if (res.status === 429) {
          const seconds = Math.ceil(retryAfterMs(res) / 1000);
          return showError(
            `Could not list the agents. The server is limiting how often this page may read; try again in ${seconds} s.`,
            `${body.error ?? 429}: ${body.message ?? ''}`,
          );
        }
        return showApiError('Could not list the agents.', res.status, body);
      }
      if (failed) showError('');
      failed = false;
      placeholder(body.agents.length === 0 ? 'No agents on this server' : 'Choose an agent');
      for (const agent of body.agents) {
        names.set(agent.agent_id, agent.display_name);
        // The name as text: an option's label is never parsed as markup.
        select.append(new Option(agent.display_name, agent.agent_id));
      }
      state = 'listed';
    } catch {
      state = 'unasked';
      failed = true;
      placeholder('Choose an agent');
      showError('Could not list the agents. Check your connection and try again.');
    }
  }

  select.addEventListener('focus', () => void list());
  select.addEventListener('pointerdown', () => void list());
  return {
    chosen: () => (select.value === '' ? undefined : select.value),
    nameOf: (agentId) => names.get(agentId) ?? agentId,
    reset: () => {
      select.value = '';
    },
  };
}
