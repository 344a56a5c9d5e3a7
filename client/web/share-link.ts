/**
 * The link to the open conversation that the chat page offers to copy. Apart because what goes into it is a
 * security question of its own: it must never carry the sender's identity.
 */
import { el } from './page-elements';

/**
 * The link to send someone for a conversation: this page with `?conversation=` and nothing else. Never the
 * sender's identity (`user_id`, or a `token` that would let the recipient act as the sender): whoever opens
 * it signs in as themselves.
 */
export function shareableLink(conversationId: string): string {
  const link = new URL(location.pathname, location.origin);
  link.searchParams.set('conversation', conversationId);
  return link.href;
}

/** Offers the link to `conversationId`, its button saying "Copy link" again. */
export function showShareLink(conversationId: string): void {
  el<HTMLInputElement>('share-link').value = shareableLink(conversationId);
  el('share-copy').textContent = 'Copy link';
  el('share').classList.remove('hidden');
}

export function hideShareLink(): void {
  el('share').classList.add('hidden');
}

export function wireShareCopy(): void {
  el('share-copy').addEventListener('click', () => {
    const input = el<HTMLInputElement>('share-link');
    input.select();
    // The clipboard needs a secure context (https or loopback); elsewhere the selected link is copied by hand.
    navigator.clipboard?.writeText(input.value).then(
      () => (el('share-copy').textContent = 'Copied'),
      () => undefined,
    );
  });
}
