import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's chromium, headless, through playwright-core (which downloads no browser of its own).
 * The flags keep it from reaching for the network, which this machine does not have.
 */
export async function launchChromium(): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`,
    );
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'chromium-profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 20_000,
  });
}

/**
 * One headless Chromium shared by the tests of the enclosing `describe`: started before them and
 * closed after. `context` stays undefined if the start failed (the `before` hook reports why).
 */
export function chromiumForSuite(): { context: BrowserContext | undefined } {
  const browser: { context: BrowserContext | undefined } = { context: undefined };
  before(async () => {
    browser.context = await launchChromium();
  });
  after(async () => {
    await browser.context?.close();
  });
  return browser;
}
