/**
 * The chat page's membership controls for the open conversation (docs/security.md, Adding and removing members):
 * the "Add person" / "Add agent" form (POST …/participants, open to any member) and the owner's remove request
 * (DELETE …/participants/{id}). The server's answer is all the page needs: the join or leave record and the new
 * member list come over the socket like anyone else's, so nothing here draws them.
 */
import { showApiError, showError } from './error-line';
import type { ApiErrorBody, PageApi } from './page-api';
import { el } from './page-elements';

const membersPath = (conversationId: string): string => `/chat/conversations/${encodeURIComponent(conversationId)}/participants`;

async function refusal(res: Response): Promise<ApiErrorBody> {
  return (await res.json().catch(() => ({}))) as ApiErrorBody;
}

/**
 * The add form: a user id and an optional display name; its two buttons add the id as a person or as an agent (the
 * page is not told which agents the server has, as the create form is not: an unknown one is refused, named).
 */
export function wireAddMember(api: PageApi, current: () => string | undefined): void {
  const form = el<HTMLFormElement>('add-member-form');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const conversationId = current();
    const participantId = el<HTMLInputElement>('add-member-id').value.trim();
    if (conversationId === undefined || participantId === '') return;
    const type = (ev as SubmitEvent).submitter?.id === 'add-agent' ? 'ai' : 'human';
    const displayName = el<HTMLInputElement>('add-member-name').value.trim();
    const body = { participant_id: participantId, participant_type: type, ...(displayName ? { display_name: displayName } : {}) };
    void (async () => {
      const res = await api(membersPath(conversationId), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) return showApiError(`Could not add ${participantId}.`, res.status, await refusal(res));
      form.reset();
      showError('');
    })();
  });
}

/** The owner removes a member, after asking: the member's page closes, and everyone sees who removed them. */
export async function removeMember(api: PageApi, conversationId: string, participantId: string, name: string): Promise<void> {
  if (!window.confirm(`Remove ${name} from this conversation? Everyone in it will see that you removed them.`)) return;
  const res = await api(`${membersPath(conversationId)}/${encodeURIComponent(participantId)}`, { method: 'DELETE' });
  if (!res.ok) return showApiError(`Could not remove ${name}.`, res.status, await refusal(res));
  showError('');
}
