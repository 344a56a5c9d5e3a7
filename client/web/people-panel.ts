/**
 * The chat page's list of the open conversation's members, and the display names the rest of the page shows
 * (messages, typing): the names are learnt from the member lists the server sends. Apart from the page's logic
 * because it only turns a member list and who is online into DOM.
 */
import type { Participant } from '../protocol-frames';

export interface PeoplePanelDeps {
  readonly list: HTMLElement;
  /** This page's user, once known ("(you)" in the list). */
  me(): string | undefined;
  /** The owner asked to remove a member (the button is offered to the owner only, next to every other member). */
  remove(participantId: string, name: string): void;
}

export interface PeoplePanel {
  /** Humans get "online" / "offline" in text (the dot before it is only decoration); agents their AI badge. */
  show(participants: readonly Participant[], online: readonly string[]): void;
  clear(): void;
  /** The display name of a participant seen in any list so far, else its id. */
  nameOf(participantId: string): string;
}

export function createPeoplePanel(deps: PeoplePanelDeps): PeoplePanel {
  const names = new Map<string, string>();
  const removeButton = (participantId: string, name: string): HTMLButtonElement => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'remove-member';
    button.textContent = 'remove';
    button.setAttribute('aria-label', `Remove ${name}`);
    button.addEventListener('click', () => deps.remove(participantId, name));
    return button;
  };
  return {
    show(participants, online) {
      for (const p of participants) names.set(p.participant_id, p.display_name || p.participant_id);
      const isOnline = new Set(online);
      const me = deps.me();
      // Only the owner may remove others (docs/security.md): a member's page offers nothing it would be refused.
      const owner = participants.some((p) => p.participant_id === me && p.role === 'owner');
      deps.list.replaceChildren(
        ...participants.map((p) => {
          const li = document.createElement('li');
          li.dataset['id'] = p.participant_id;
          li.textContent = `${p.display_name || p.participant_id}${p.participant_id === me ? ' (you)' : ''}`;
          const tag = document.createElement('span');
          tag.className = p.participant_type === 'ai' ? 'badge' : 'presence';
          tag.textContent = p.participant_type === 'ai' ? 'AI' : isOnline.has(p.participant_id) ? 'online' : 'offline';
          if (p.participant_type === 'human') tag.dataset['online'] = String(isOnline.has(p.participant_id));
          li.append(' ', tag);
          if (owner && p.participant_id !== me) li.append(' ', removeButton(p.participant_id, p.display_name || p.participant_id));
          return li;
        }),
      );
    },
    clear: () => deps.list.replaceChildren(),
    nameOf: (participantId) => names.get(participantId) ?? participantId,
  };
}
