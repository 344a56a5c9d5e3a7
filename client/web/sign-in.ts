/**
 * The chat page before anyone is signed in: the forms that ask for a token (jwt mode) or a user id (dev mode),
 * and the line that says who is signed in. Apart from the page's logic because both forms end by starting the
 * page again (a reload or a new URL): nothing of an open conversation is involved.
 */
import { TOKEN_KEY } from './page-auth';
import { el } from './page-elements';

/** Asks for a token (jwt mode), saying why when one was just refused; the page starts again with it. */
export function askForToken(problem = '', detail = ''): void {
  el('sidebar').classList.add('hidden');
  el('main').classList.add('hidden');
  el('signin-token-problem').textContent = problem;
  el('signin-token-problem').title = detail;
  const form = el<HTMLFormElement>('signin-token');
  form.classList.remove('hidden');
  form.onsubmit = (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, el<HTMLInputElement>('signin-token-value').value.trim());
    location.reload();
  };
}

/** Asks for a user id (dev mode); it goes into the URL, next to the conversation wanted. */
export function askForUserId(params: URLSearchParams): void {
  const form = el<HTMLFormElement>('signin');
  form.classList.remove('hidden');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    params.set('user_id', el<HTMLInputElement>('signin-user').value.trim());
    location.search = params.toString();
  });
}

/** Who the page says is signed in: the dev user id, else the participant id (the token's, then the server's). */
export function signedInLabel(userId: string | undefined, id: string | undefined): string {
  return userId ? `signed in as ${userId} (dev)` : id ? `signed in as ${id}` : 'signed in with a token';
}
