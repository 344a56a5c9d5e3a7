/**
 * How the chat page finds its parts in chat.html. Apart so every piece of the page (sign-in, panels, forms) looks
 * elements up the same way, and a missing one fails loudly with its id instead of as a null later.
 */

/** The element `#id` of the page; throws, naming it, when chat.html has none. */
export function el<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`chat page: #${id} is missing`);
  return node as T;
}
