import { describe, expect, it } from '@jest/globals';
import axe from 'axe-core';
import type { Frame } from 'playwright-core';
import { TOOL_PAGES, usePageFrames } from './tool-pages.js';

/** What axe found, one line per rule and element, for the failure message. */
interface Finding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

type AxeWindow = { axe?: { run(context: unknown, options: unknown): Promise<{ violations: Array<{ id: string; impact?: string | null; help: string; nodes: Array<{ target: unknown[] }> }> }> } };

/** Runs axe-core inside the tool's frame (its document, not the LMS page around it) and lists the violations. */
async function axeViolations(frame: Frame): Promise<string[]> {
  if (!(await frame.evaluate(() => Boolean((globalThis as unknown as AxeWindow).axe)))) await frame.evaluate(axe.source);
  const findings: Finding[] = await frame.evaluate(async () => {
    const result = await (globalThis as unknown as AxeWindow).axe!.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }));
  });
  return findings.map((f) => `${f.id} (${f.impact}): ${f.help} — ${f.targets.slice(0, 5).join(' | ')}${f.targets.length > 5 ? ` (+${f.targets.length - 5})` : ''}`);
}

/**
 * axe-core on every page of every role (TOOL_PAGES), inside the dev LMS's iframe: at a desktop width and at a
 * phone's (where tables scroll in their own regions or stack, and other rules apply).
 */
describe('accessibility of every page (axe-core)', () => {
  const pages = usePageFrames();
  const { frames } = pages;

  describe.each([
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ])('at $width px', (viewport) => {
    it.each(TOOL_PAGES.map((p) => [`${p.role}: ${p.name}`, p] as const))('%s has no violations', async (_name, target) => {
      const { page } = await frames.of(target.role);
      await page.setViewportSize(viewport);
      const { frame } = await frames.visit(target, pages.fixtures);
      expect(await axeViolations(frame)).toEqual([]);
    }, 30_000);
  });
});
