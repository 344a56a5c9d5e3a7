/**
 * The chat page's "create a conversation" form: its fields as the body of POST /chat/conversations. Apart from
 * the page's logic because only the answer matters to it (the page opens the new conversation).
 */
import type { ConversationMeta } from './conversation-list';
import { showApiError } from './error-line';
import type { ApiErrorBody, PageApi } from './page-api';
import { el } from './page-elements';

/** `created`: the server made the conversation; the form is already reset. */
export function wireCreateForm(api: PageApi, created: (conversation: ConversationMeta) => Promise<void>): void {
  el<HTMLFormElement>('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const split = (id: string): string[] =>
      el<HTMLInputElement>(id)
        .value.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const title = el<HTMLInputElement>('create-title').value.trim();
    const body = {
      ...(title ? { title } : {}),
      participants: split('create-humans').map((participant_id) => ({ participant_id, participant_type: 'human' })),
      agents: split('create-agents'),
      auto_join_agents: el<HTMLInputElement>('create-autojoin').checked,
      // Invite-only refuses self-joins: the share link then only works for people a member added (docs/security.md).
      ...(el<HTMLInputElement>('create-invite-only').checked ? { settings: { invite_only: true } } : {}),
    };
    void (async () => {
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
