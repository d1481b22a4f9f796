import { describe, expect, it } from '@jest/globals';
import { useBrowserStack } from './browser-stack.js';

/**
 * The launch as a person makes it: the LMS page (127.0.0.1) frames the tool (localhost), so the tool is a
 * third party and its cookies must be Partitioned to survive in current Chromium.
 */
describe('iframe launch in headless Chromium', () => {
  const env = useBrowserStack();

  it('a student launched from the dev LMS page sees the student home inside the iframe', async () => {
    const { stack, chrome } = env;
    const page = await chrome.context.newPage();
    await page.goto(`${stack.devlmsUrl}/launch/student1`);
    const frameElement = await page.waitForSelector('iframe');
    const frame = (await frameElement.contentFrame())!;
    await frame.waitForSelector('text=Your submissions', { timeout: 15_000 });

    expect(new URL(page.url()).hostname).toBe('127.0.0.1');
    const frameUrl = new URL(frame.url());
    expect(frameUrl.hostname).toBe('localhost');
    expect(frameUrl.pathname).toMatch(/^\/student\/tasks\/\d+$/);
    // The page script took the launch token out of the address bar.
    expect(frameUrl.searchParams.has('ltik')).toBe(false);
    expect(await frame.locator('.badge-student').textContent()).toBe('student');

    // The session cookie lives in the LMS's partition: htmx-style requests from the frame still carry it.
    const status = await frame.evaluate(async () => {
      // Runs in the page (this project compiles without the DOM library, hence the narrow type).
      const doc = (globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document;
      const ltik = doc.querySelector('meta[name="ltik"]')!.getAttribute('content');
      const res = await fetch('/api/session', { headers: { Authorization: `Bearer ${ltik}` } });
      return { status: res.status, body: (await res.json()) as { role: string } };
    });
    expect(status.status).toBe(200);
    expect(status.body.role).toBe('student');
    await page.close();
  }, 60_000);
});
