import { readFileSync } from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import { VIEWS_DIR } from '../paths.js';

/** What every page knows besides its own model; set per request by the actor middleware. */
export interface ViewContext {
  ltik?: string;
  csrfToken?: string;
  role?: 'student' | 'instructor' | 'administrator';
  userName?: string;
  courseTitle?: string;
  platformName?: string;
  demoMode: boolean;
  nav: Array<{ href: string; label: string }>;
  /** Unread notices in the person's inbox (the header's count). */
  unread?: number;
  /** The other roles' homes, for a person who holds several (an administrator who also teaches the course). */
  switchTo?: Array<{ href: string; label: string }>;
}

export interface RenderOptions {
  status?: number;
  /** The partial that answers a plain htmx request instead of the whole page (views/partials/…). */
  fragment?: string;
}

let cacheTemplates = true;
export function setTemplateCaching(on: boolean): void {
  cacheTemplates = on;
}

/** A request htmx made to swap part of a page (not a boosted navigation, not a history restore). */
export function isFragmentRequest(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-Boosted') !== 'true' && req.get('HX-History-Restore-Request') !== 'true';
}

/** `link('/x')` → '/x?ltik=…': links carry the launch token, which the page then strips from the address bar. */
export function linkWith(ltik: string | undefined) {
  return (href: string, params: Record<string, string | number | undefined> = {}): string => {
    const u = new URL(href, 'http://x');
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    if (ltik) u.searchParams.set('ltik', ltik);
    return u.pathname + u.search + u.hash;
  };
}

export function renderToString(view: string, locals: Record<string, unknown>): string {
  const file = path.join(VIEWS_DIR, `${view}.ejs`);
  return ejs.render(readTemplate(file), locals, { filename: file, cache: cacheTemplates, views: [VIEWS_DIR] });
}

const sources = new Map<string, string>();
function readTemplate(file: string): string {
  if (!cacheTemplates) return readFileSync(file, 'utf8');
  let s = sources.get(file);
  if (s === undefined) {
    s = readFileSync(file, 'utf8');
    sources.set(file, s);
  }
  return s;
}

/**
 * The one render helper: the whole page in the layout, or only its fragment for a plain htmx request, from the
 * same view model. `Vary: HX-Request` keeps caches from serving one for the other.
 */
export function render(req: Request, res: Response, page: string, model: Record<string, unknown> = {}, options: RenderOptions = {}): void {
  res.vary('HX-Request');
  const context = (res.locals.view as ViewContext | undefined) ?? { demoMode: false, nav: [] };
  const locals = { ...context, ...model, link: linkWith(context.ltik), currentPath: req.path };
  let html: string;
  if (options.fragment && isFragmentRequest(req)) {
    html = renderToString(options.fragment, locals);
  } else {
    const body = renderToString(page, locals);
    html = renderToString('layout', { ...locals, body });
  }
  res.status(options.status ?? 200).type('html').send(html);
}
