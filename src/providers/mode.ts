import type { Config } from '../config.js';

export interface ProviderMode {
  demoMode: boolean;
  /** Shown on every page, so nobody mistakes simulated grades for real ones. */
  label: string;
  /** Where provider calls go (never includes the key). */
  baseUrl: string;
}

/** Which grader the app talks to: the local emulator (no OPENAI_API_KEY) or a real OpenAI-compatible API. */
export function describeProviderMode(config: Pick<Config, 'openai'>): ProviderMode {
  if (config.openai.demoMode) {
    return { demoMode: true, label: 'demo mode: simulated grader', baseUrl: config.openai.baseUrl };
  }
  const host = safeHost(config.openai.baseUrl);
  return {
    demoMode: false,
    label: host === 'api.openai.com' ? 'OpenAI' : `OpenAI-compatible API at ${host}`,
    baseUrl: config.openai.baseUrl,
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
