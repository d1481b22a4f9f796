import { describe, expect, it } from '@jest/globals';
import type { Frame, Page } from 'playwright-core';
import { until } from '../test/helpers/until.js';
import { TOOL_PAGES, usePageFrames } from './tool-pages.js';

const PHONE = { width: 390, height: 844 };

type Doc = {
  document: {
    documentElement: { scrollWidth: number; scrollHeight: number; clientWidth: number };
    querySelectorAll(s: string): ArrayLike<El>;
    querySelector(s: string): El | null;
  };
  innerWidth: number;
  innerHeight: number;
  getComputedStyle(el: El): { overflowX: string; position: string };
};
type El = {
  tagName: string;
  id: string;
  className: string;
  parentElement: El | null;
  scrollWidth: number;
  clientWidth: number;
  scrollLeft: number;
  getBoundingClientRect(): { left: number; right: number; width: number };
  closest(s: string): El | null;
};

/** The page's width against the frame's, and the outermost elements reaching past its right edge (for the message). */
async function horizontalOverflow(frame: Frame): Promise<{ scrollWidth: number; innerWidth: number; offenders: string[] }> {
  return frame.evaluate(() => {
    const w = globalThis as unknown as Doc;
    const width = w.document.documentElement.clientWidth;
    const scrolls = (el: El) => ['auto', 'scroll', 'hidden'].includes(w.getComputedStyle(el).overflowX);
    const inScroller = (el: El) => {
      for (let p = el.parentElement; p; p = p.parentElement) if (scrolls(p)) return true;
      return false;
    };
    const offenders: string[] = [];
    const all = w.document.querySelectorAll('body *');
    for (let i = 0; i < all.length; i++) {
      const el = all[i]!;
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.right <= width + 0.5 || inScroller(el)) continue;
      const parent = el.parentElement;
      if (parent && parent.getBoundingClientRect().right > width + 0.5 && !scrolls(parent)) continue; // its parent is listed
      offenders.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} (right edge ${Math.round(box.right)})`);
    }
    return { scrollWidth: w.document.documentElement.scrollWidth, innerWidth: w.innerWidth, offenders: offenders.slice(0, 8) };
  });
}

/**
 * The key control lies within the frame's width, visible; inside a scroll region (a wide table) it stays in view
 * when the region is scrolled to its end, so a person never loses the row's name or its checkbox.
 */
async function expectInReach(page: Page, frame: Frame, selector: string, name: string): Promise<void> {
  const key = frame.locator(selector).first();
  await key.waitFor({ state: 'visible', timeout: 5000 });
  const frameBox = (await page.locator('iframe#tool-frame').boundingBox())!;
  const within = async (what: string) => {
    const box = (await key.boundingBox())!;
    const left = Math.round(box.x - frameBox.x);
    const right = Math.round(box.x + box.width - frameBox.x);
    const inside = left >= 0 && right <= Math.round(frameBox.width);
    expect({ name, what, inside, left, right, frameWidth: Math.round(frameBox.width) }).toEqual({ name, what, inside: true, left, right, frameWidth: Math.round(frameBox.width) });
  };
  await within('at first');
  const inRegion = await key.evaluate((el) => {
    const region = (el as unknown as El).closest('.table-scroll');
    if (!region || region.scrollWidth <= region.clientWidth) return false;
    region.scrollLeft = region.scrollWidth;
    return true;
  });
  if (inRegion) {
    await within('with its region scrolled to the end');
    await key.evaluate((el) => {
      (el as unknown as El).closest('.table-scroll')!.scrollLeft = 0;
    });
  }
}

/**
 * Every page at a phone's width inside the dev LMS's frame (the frame ~350 px wide): nothing makes the page
 * scroll sideways, and each page's key control (TOOL_PAGES `key`) is within reach. And the LMS frame grows with
 * the tool's page (lti.frameResize), so a long page scrolls with the LMS instead of inside a fixed frame.
 */
describe('narrow frames', () => {
  const pages = usePageFrames();
  const { frames } = pages;

  it.each(TOOL_PAGES.map((p) => [`${p.role}: ${p.name}`, p] as const))('%s: no sideways scrolling, the key control in reach', async (name, target) => {
    const { page } = await frames.of(target.role);
    await page.setViewportSize(PHONE);
    const { frame } = await frames.visit(target, pages.fixtures);
    const overflow = await horizontalOverflow(frame);
    expect({ name, ...overflow }).toEqual({ name, scrollWidth: overflow.innerWidth, innerWidth: overflow.innerWidth, offenders: [] });
    if (target.key) await expectInReach(page, frame, target.key, name);
  }, 30_000);

  it('grows the LMS frame to the height of the prompt editor (lti.frameResize)', async () => {
    const editor = TOOL_PAGES.find((p) => p.name === 'prompt editor')!;
    const { page } = await frames.of(editor.role);
    await page.setViewportSize(PHONE);
    const { frame } = await frames.visit(editor, pages.fixtures);
    const iframe = page.locator('iframe#tool-frame');
    const documentHeight = () => frame.evaluate(() => (globalThis as unknown as Doc).document.documentElement.scrollHeight);
    const sizes = await until('the frame to grow to the page', async () => {
      const [outer, inner, frameHeight] = await Promise.all([iframe.evaluate((el) => (el as unknown as { clientHeight: number }).clientHeight), documentHeight(), frame.evaluate(() => (globalThis as unknown as Doc).innerHeight)]);
      return outer >= inner && inner <= frameHeight ? { outer, inner } : undefined;
    }, 10_000);
    // The editor is several screens long at this width: the frame grew far past the LMS's initial size.
    expect(sizes.outer).toBeGreaterThan(PHONE.height * 2);
    // The LMS listens to its tool frame only: the same message from anywhere else changes nothing.
    await page.evaluate(() => (globalThis as unknown as { postMessage(m: unknown, o: string): void }).postMessage({ subject: 'lti.frameResize', height: 100 }, '*'));
    await page.waitForTimeout(100);
    expect(await iframe.evaluate((el) => (el as unknown as { clientHeight: number }).clientHeight)).toBe(sizes.outer);
    // An htmx swap that makes the page longer (the comparison of two versions) grows it again.
    const before = sizes.outer;
    await frame.getByRole('button', { name: 'Compare', exact: true }).click();
    await frame.waitForSelector('#prompts-diff table, #prompts-diff p');
    await until('the frame to follow the page', async () => {
      const [outer, inner] = await Promise.all([iframe.evaluate((el) => (el as unknown as { clientHeight: number }).clientHeight), documentHeight()]);
      return outer >= inner && outer !== before ? true : undefined;
    }, 10_000);
  }, 30_000);
});
