import { chromium, type Browser, type BrowserContext, type Frame } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A launched Chromium with one browser context; close() ends both. */
export interface Chromium {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's chromium, headless, driven by playwright-core (nothing downloaded). The flags keep it from calling
 * home on a closed network; playwright gives each launch a fresh profile. Third-party cookies behave as in
 * current Chromium, which is what the iframe launch tests are about.
 */
export async function launchChromium(): Promise<Chromium> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const context = await browser.newContext();
  return {
    browser,
    context,
    async close() {
      await context.close().catch(() => {});
      await browser.close().catch(() => {});
    },
  };
}

type FocusDocument = { document: { activeElement: { id: string } | null } };

/**
 * The id of the focused element once focus reaches `expected`, or after `timeoutMs` whatever holds it then. Pages
 * move focus when htmx settles a swap, a moment after the new content shows, so reading it at once races.
 */
export async function focusedIdOnceSettled(frame: Frame, expected: string, timeoutMs = 3000): Promise<string | undefined> {
  await frame.waitForFunction((id) => (globalThis as unknown as FocusDocument).document.activeElement?.id === id, expected, { timeout: timeoutMs }).catch(() => undefined);
  return frame.evaluate(() => (globalThis as unknown as FocusDocument).document.activeElement?.id);
}
