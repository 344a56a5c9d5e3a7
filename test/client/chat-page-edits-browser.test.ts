/**
 * The chat page edits and deletes the user's own messages: only its own text lines offer "edit" and "delete"; an edit
 * (the new text asked with a prompt) shows on its page and on the other member's page, marked "(edited)", and stays
 * after a reload (the history page has the record edited); a delete (confirmed) shows "[redacted]" on both and its
 * buttons go. Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-edits-browser.test');
const session = pageSessions();

/** The text and the marks of the line of record `seq`. */
const lineOf = (page: Page, seq: number) =>
  page.evaluate((s) => {
    const li = document.querySelector<HTMLElement>(`#messages li[data-seq="${s}"]`);
    return {
      text: li?.querySelector('.piece')?.textContent,
      edited: li?.querySelector('.edited-mark') !== null,
      actions: li?.querySelectorAll('.own-actions button').length ?? 0,
    };
  }, seq);

maybe(
  "alice edits, then deletes her message; bob's page follows; bob's own line is the only one he may change",
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice', 'bob']);
    const a1 = (await stack.runtime.post('trip', { sender_id: 'alice', message_id: 'a1', content: 'meet at 9' })).sequence_id;
    const b1 = (await stack.runtime.post('trip', { sender_id: 'bob', message_id: 'b1', content: 'ok' })).sequence_id;

    const alice = await browser.newPage();
    const bob = await browser.newPage();
    const errors = collectErrors(alice);
    const bobErrors = collectErrors(bob);
    for (const [page, user] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      await page.goto(`${origin}/?user_id=${user}&conversation=trip`);
      await page.waitForSelector('#state[data-state="open"]');
      await page.waitForSelector(`#messages li[data-seq="${b1}"]`);
    }
    // Each user's own text line offers edit and delete; the other's does not.
    expect(await lineOf(alice, a1)).toEqual({ text: 'meet at 9', edited: false, actions: 2 });
    expect(await lineOf(alice, b1)).toEqual({ text: 'ok', edited: false, actions: 0 });
    expect(await lineOf(bob, a1)).toEqual({ text: 'meet at 9', edited: false, actions: 0 });
    expect(await lineOf(bob, b1)).toEqual({ text: 'ok', edited: false, actions: 2 });

    alice.once('dialog', (d) => {
      expect([d.type(), d.defaultValue()]).toEqual(['prompt', 'meet at 9']);
      void d.accept('meet at 10');
    });
    await alice.click(`#messages li[data-seq="${a1}"] .edit-own`);
    for (const page of [alice, bob]) {
      await page.waitForSelector(`#messages li[data-seq="${a1}"] .edited-mark`);
      expect((await lineOf(page, a1)).text).toBe('meet at 10');
    }
    // The edit record is not a line of its own.
    expect(await bob.locator('#messages > li').count()).toBe(await alice.locator('#messages > li').count());
    expect((await stack.runtime.readMessages('trip', a1 - 1, 1))[0]).toMatchObject({ content: 'meet at 10', metadata: { edited: true } });

    // A reload reads the history page: the line comes edited.
    await bob.reload();
    await bob.waitForSelector(`#messages li[data-seq="${a1}"] .edited-mark`);
    expect(await lineOf(bob, a1)).toEqual({ text: 'meet at 10', edited: true, actions: 0 });

    alice.once('dialog', (d) => {
      expect(d.type()).toBe('confirm');
      void d.accept();
    });
    await alice.click(`#messages li[data-seq="${a1}"] .delete-own`);
    for (const page of [alice, bob]) {
      await page.waitForFunction((s) => document.querySelector(`#messages li[data-seq="${s}"] .piece`)?.textContent === '[redacted]', a1);
      expect(await lineOf(page, a1)).toEqual({ text: '[redacted]', edited: false, actions: 0 });
    }
    expect(errors).toEqual([]);
    expect(bobErrors).toEqual([]);
  },
  60_000,
);
