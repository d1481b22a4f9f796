import http from 'node:http';
import type { Page, ToolSession } from '../helpers/lti-browser.js';
import { patternOf, type Case } from './world.js';

/** Helpers for the probes: hand-made requests (any body, any header) in a session, and what answers must not show. */

export interface RawOptions {
  method?: string;
  /** The body exactly as sent (a string or bytes); no content type is added unless given. */
  body?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  /** Send the session's ltik as Bearer (default true). */
  auth?: boolean;
  /** Send the session's CSRF token as X-CSRF-Token (default true). */
  csrf?: boolean;
  /** Send the session's cookies (default true). */
  cookies?: boolean;
  htmx?: boolean;
}

/** A response's header block larger than this cannot be read by clients with default limits (Node, many proxies). */
export const MAX_HEADER_BYTES = 16 * 1024;

export interface RawPage extends Page {
  /** The size of the response's header block, in bytes. */
  headerBytes: number;
}

/**
 * One request in a session, without redirects followed, with the body as given (for malformed input). Sent with
 * node:http and no limit on the answer's headers, so an oversized header is measured rather than a failed fetch.
 */
export function raw(session: ToolSession, path: string, o: RawOptions = {}): Promise<RawPage> {
  const url = new URL(path, session.toolOrigin).href;
  const headers: Record<string, string> = {};
  if (o.auth !== false) headers.authorization = `Bearer ${session.ltik}`;
  if (o.csrf !== false) headers['x-csrf-token'] = session.csrf;
  if (o.htmx) headers['hx-request'] = 'true';
  if (o.contentType) headers['content-type'] = o.contentType;
  const cookie = o.cookies === false ? '' : session.browser.jar.header(url);
  if (cookie) headers.cookie = cookie;
  Object.assign(headers, o.headers ?? {});
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? Buffer.from(o.body) : Buffer.from(o.body);
  if (body) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: o.method ?? 'GET', headers, maxHeaderSize: 64 * 1024 * 1024 }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const html = Buffer.concat(chunks).toString('utf8');
        const h = new Headers();
        let headerBytes = 0;
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          headerBytes += res.rawHeaders[i]!.length + res.rawHeaders[i + 1]!.length + 4;
        }
        resolve({ status: res.statusCode!, url, html, headers: h, headerBytes, json: <T>() => JSON.parse(html) as T });
      });
    });
    // A server may answer (413) and close before a large body is written: the answer counts, not the broken pipe.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

/**
 * What no answer may show: a stack frame, a source file of ours, a dependency's path, an exception's class name,
 * SQL or a database message. Returns the patterns found (none for a clean body).
 */
export function internalsIn(body: string): string[] {
  const checks: Array<[string, RegExp]> = [
    ['stack frame', /^\s*at \S+ \(|\bat (?:async )?[\w$.<>]+ \([^)]*:\d+:\d+\)|\bat [^\s()]+:\d+:\d+/m],
    ['source file', /\.[mc]?[tj]s:\d+/],
    ['node_modules', /node_modules/],
    ['exception class', /\b(?:[A-Z]\w*)?Error: /],
    ['"stack"', /\bstack\b/i],
    ['SQL', /\b(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/],
    ['database message', /syntax error|invalid byte sequence|violates .* constraint|relation "\w+"|column "\w+"|\bPostgres|\bpg_/i],
  ];
  return checks.filter(([, re]) => re.test(body)).map(([name]) => name);
}

/** The visible text of an answer (HTML tags stripped; JSON as is). */
export function messageOf(page: Page): string {
  if ((page.headers.get('content-type') ?? '').includes('json')) return page.html;
  return page.html
    .replace(/<script[\s\S]*?<\/script>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The path of a case with one `:param` segment replaced by `value` (put in the URL as given: encode it first). */
export function withParam(c: Case, path: string, param: string, value: string): string {
  const q = path.indexOf('?');
  const pathname = q >= 0 ? path.slice(0, q) : path;
  const query = q >= 0 ? path.slice(q) : '';
  const pattern = patternOf(c).split('/');
  const segments = pathname.split('/');
  const i = pattern.indexOf(`:${param}`);
  if (i < 0 || segments.length !== pattern.length) throw new Error(`cannot place :${param} of ${c.route} in ${path}`);
  segments[i] = value;
  return segments.join('/') + query;
}

/** The segment a `:param` has in a path built for the case. */
export function paramValue(c: Case, path: string, param: string): string {
  const pathname = path.split('?')[0]!;
  return pathname.split('/')[patternOf(c).split('/').indexOf(`:${param}`)]!;
}

export const is4xx = (status: number) => status >= 400 && status < 500;
