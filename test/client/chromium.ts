/**
 * The Chromium the browser tests drive (playwright-core, no bundled browser). It must be at
 * /usr/bin/chromium: in CI (process.env.CI) its absence fails the tests, elsewhere they are skipped with a
 * message, once per test file that asks.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

/** `test`, or `test.skip` (with a warning naming `file`) where there is no Chromium outside CI. */
export function browserTest(file: string): jest.It {
  const available = existsSync(CHROMIUM);
  if (!available && !process.env['CI']) {
    console.warn(`${file}: ${CHROMIUM} not found, skipping (install it: apt-get install -y chromium)`);
  }
  return available || process.env['CI'] ? test : test.skip;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}
