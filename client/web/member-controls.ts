/**
 * The chat page's membership controls for the open conversation (docs/security.md, Adding and removing members):
 * the "Add person" / "Add agent" form (POST …/participants, open to any member) and the owner's remove request
 * (DELETE …/participants/{id}). The server's answer is all the page needs: the join or leave record and the new
 * member list come over the socket like anyone else's, so nothing here draws them.
 */
import { wireAgentChoice } from './agent-choice';
import { showApiError, showError } from './error-line';
import type { ApiErrorBody, PageApi } from './page-api';
import { el } from './page-elements';

const membersPath = (conversationId: string): string => `/chat/conversations/${encodeURIComponent(conversationId)}/participants`;

async function refusal(res: Response): Promise<ApiErrorBody> {
  return (await res.json().catch(() => ({}))) as ApiErrorBody;
}

/**
 * The add form. "Add person" adds the typed user id (with the optional display name); "Add agent" adds the agent
 * chosen from the server's list under its own id and without a display name, so the server gives it its configured
 * name: the only one a member who is not the owner may add it under. Both buttons are disabled while an add is in
 * flight: a second press would send the add again (harmless for the server, but a second request and a second
 * answer to show).
 */
export function wireAddMember(api: PageApi, current: () => string | undefined): void {
  const form = el<HTMLFormElement>('add-member-form');
  const buttons = [el<HTMLButtonElement>('add-person'), el<HTMLButtonElement>('add-agent')];
  const agents = wireAgentChoice(api);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const conversationId = current();
    if (conversationId === undefined || buttons.some((b) => b.disabled)) return;
    const asAgent = (ev as SubmitEvent).submitter?.id === 'add-agent';
    const request = asAgent ? agentAdd(agents.chosen()) : personAdd();
    if (request === undefined) return;
    const name = asAgent ? agents.nameOf(request.participant_id) : request.participant_id;
    for (const b of buttons) b.disabled = true;
    void (async () => {
      try {
        const res = await api(membersPath(conversationId), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(request),
        });
        if (!res.ok) return showApiError(`Could not add ${name}.`, res.status, await refusal(res));
        form.reset();
        agents.reset();
        showError('');
      } catch {
        showError(`Could not add ${name}. Check your connection and try again.`);
      } finally {
        for (const b of buttons) b.disabled = false;
      }
    })();
  });
}

function personAdd(): (Record<string, string> & { participant_id: string }) | undefined {
  const participantId = el<HTMLInputElement>('add-member-id').value.trim();
  if (participantId === '') return undefined;
  const displayName = el<HTMLInputElement>('add-member-name').value.trim();
  return { participant_id: participantId, participant_type: 'human', ...(displayName ? { display_name: displayName } : {}) };
}

function agentAdd(agentId: string | undefined): (Record<string, string> & { participant_id: string }) | undefined {
  if (agentId === undefined) {
    showError('Choose an agent to add first.');
    return undefined;
  }
  return { participant_id: agentId, participant_type: 'ai' };
}

/**
 * Makes the owner's remove requests. A removal asked again while the first is in flight (a second press on the
 * member's button, queued behind the confirmation) is not sent twice.
 */
export function createMemberRemoval(api: PageApi): (conversationId: string, participantId: string, name: string) => Promise<void> {
  const inFlight = new Set<string>();
  return async (conversationId, participantId, name) => {
    const key = JSON.stringify([conversationId, participantId]);
    if (inFlight.has(key)) return;
    if (!window.confirm(`Remove ${name} from this conversation? Everyone in it will see that you removed them.`)) return;
    inFlight.add(key);
    try {
      const res = await api(`${membersPath(conversationId)}/${encodeURIComponent(participantId)}`, { method: 'DELETE' });
      if (!res.ok) return showApiError(`Could not remove ${name}.`, res.status, await refusal(res));
      showError('');
    } catch {
      showError(`Could not remove ${name}. Check your connection and try again.`);
    } finally {
      inFlight.delete(key);
    }
  };
}
