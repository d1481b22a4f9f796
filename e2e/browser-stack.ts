import { afterAll, beforeAll } from '@jest/globals';
import { startStack, type Stack, type StackOptions } from '../test/helpers/stack.js';
import { launchChromium, type Chromium } from './browser.js';

/** What a browser test drives: the tool with the dev LMS, and a headless Chromium. */
export interface BrowserStack {
  readonly stack: Stack;
  readonly chrome: Chromium;
}

/**
 * Starts a stack and Chromium before the describe's tests and closes both after them (what did start, if a start
 * failed). Read `stack` and `chrome` inside a test: they exist only once beforeAll has run.
 */
export function useBrowserStack(options: StackOptions = {}): BrowserStack {
  let stack: Stack | undefined;
  let chrome: Chromium | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
    chrome = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chrome?.close();
    await stack?.close();
  });
  return {
    get stack() {
      if (!stack) throw new Error('The stack is not started: read it inside a test, not while the describe is declared.');
      return stack;
    },
    get chrome() {
      if (!chrome) throw new Error('Chromium is not started: read it inside a test, not while the describe is declared.');
      return chrome;
    },
  };
}
