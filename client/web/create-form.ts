/**
 * The chat page's "create a conversation" form: its fields as the body of POST /chat/conversations. Apart from
 * the page's logic because only the answer matters to it (the page opens the new conversation). Before sending, an
 * id under "Other people" that is one of the server's agents (GET /chat/agents) is refused on the page: the server
 * would make a person of that id, who shadows the agent, and the conversation would get no AI and no word why.
 */
import type { ConversationMeta } from './conversation-list';
import { showApiError, showError } from './error-line';
import type { ApiErrorBody, PageApi } from './page-api';
import { el } from './page-elements';

/** One entry of GET /chat/agents. */
interface ListedAgent {
  readonly agent_id: string;
  readonly display_name: string;
}

/**
 * The server's agents by lowercased id, asked once (the first create that names other people: a page load's reads
 * count against the user's read budget, and most creates name nobody). Undefined when the listing failed: the check
 * is skipped then, not the create (the server decides that).
 */
function agentLister(api: PageApi): () => Promise<ReadonlyMap<string, ListedAgent> | undefined> {
  let known: ReadonlyMap<string, ListedAgent> | undefined;
  return async () => {
    if (known) return known;
    try {
      const res = await api('/chat/agents');
      const body = (await res.json().catch(() => ({}))) as { agents?: ListedAgent[] };
      if (!res.ok || !Array.isArray(body.agents)) return undefined;
      known = new Map(body.agents.map((agent) => [agent.agent_id.toLowerCase(), agent]));
      return known;
    } catch {
      return undefined;
    }
  };
}

/** The sentence that refuses an agent's id given as a person's (ids compared without case, as people type them). */
function agentAsPersonSentence(typed: string, agent: ListedAgent): string {
  const name = agent.display_name && agent.display_name !== agent.agent_id ? ` (${agent.display_name})` : '';
  return (
    `"${typed}" is an AI agent on this server${name}, not a person. Take it out of "Other people" and add it as an ` +
    `agent: write ${agent.agent_id} under "Agents", or keep "add configured agents" checked.`
  );
}

/** `created`: the server made the conversation; the form is already reset. */
export function wireCreateForm(api: PageApi, created: (conversation: ConversationMeta) => Promise<void>): void {
  const agents = agentLister(api);
  el<HTMLFormElement>('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const split = (id: string): string[] =>
      el<HTMLInputElement>(id)
        .value.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const title = el<HTMLInputElement>('create-title').value.trim();
    const humans = split('create-humans');
    const body = {
      ...(title ? { title } : {}),
      participants: humans.map((participant_id) => ({ participant_id, participant_type: 'human' })),
      agents: split('create-agents'),
      auto_join_agents: el<HTMLInputElement>('create-autojoin').checked,
      // Invite-only refuses self-joins: the share link then only works for people a member added (docs/security.md).
      ...(el<HTMLInputElement>('create-invite-only').checked ? { settings: { invite_only: true } } : {}),
    };
    void (async () => {
      if (humans.length > 0) {
        const listed = await agents();
        const agentNamed = humans.find((id) => listed?.has(id.toLowerCase()));
        if (agentNamed !== undefined) return showError(agentAsPersonSentence(agentNamed, listed!.get(agentNamed.toLowerCase())!));
      }
      const res = await api('/chat/conversations', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as ConversationMeta & { message?: string };
      if (!res.ok) return showApiError('Could not create the conversation.', res.status, json as ApiErrorBody);
      el<HTMLFormElement>('create-form').reset();
      await created(json);
    })();
  });
}
