/**
 * The chat page on narrow screens (chat.html, under 700 px): the conversation list and the people list open over
 * the messages, one at a time, and close on a pick, on the backdrop or on Escape. Apart because it is layout
 * only: it reads and writes body classes and aria-expanded, nothing of a conversation.
 */
import { el } from './page-elements';

export function wireNarrowPanels(): void {
  const panels = { list: el('toggle-list'), people: el('toggle-people') };
  const showPanel = (which: keyof typeof panels | undefined): void => {
    for (const [name, button] of Object.entries(panels)) {
      const open = name === which && !document.body.classList.contains(`${name}-open`);
      document.body.classList.toggle(`${name}-open`, open);
      button.setAttribute('aria-expanded', String(open));
    }
  };
  panels.list.addEventListener('click', () => showPanel('list'));
  panels.people.addEventListener('click', () => showPanel('people'));
  el('conversations').addEventListener('click', () => showPanel(undefined));
  el('backdrop').addEventListener('click', () => showPanel(undefined));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') showPanel(undefined);
  });
}
