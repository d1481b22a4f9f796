import { CookieJar } from './cookie-jar.js';
import { attr, formFields, metaContent } from './html.js';

export interface Page {
  status: number;
  url: string;
  html: string;
  headers: Headers;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  method?: string;
  /** A field given a list is sent once per value, as a browser sends checkboxes sharing a name. */
  form?: Record<string, string | string[]>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Follow redirects (default) or return the 3xx itself. */
  follow?: boolean;
}

/**
 * A scripted browser for the LTI flow over real HTTP: cookies per host, redirects followed by hand (so each
 * hop can be inspected), forms posted as a browser posts them. No part of our code is stubbed.
 */
export class LtiBrowser {
  jar = new CookieJar();

  async request(url: string, options: RequestOptions = {}): Promise<Page> {
    let method = options.method ?? (options.form || options.json !== undefined ? 'POST' : 'GET');
    let body: string | undefined;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.form) {
      body = new URLSearchParams(Object.entries(options.form).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]))).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    }
    let current = url;
    for (let hop = 0; hop < 10; hop++) {
      const cookie = this.jar.header(current);
      const res = await fetch(current, { method, body, headers: { ...headers, ...(cookie ? { cookie } : {}) }, redirect: 'manual' });
      this.jar.store(current, res);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location && options.follow !== false) {
        current = new URL(location, current).href;
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
        await res.arrayBuffer();
        continue;
      }
      const html = await res.text();
      return { status: res.status, url: current, html, headers: res.headers, json: <T>() => JSON.parse(html) as T };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Steps 1–3 of a launch: the LMS page, the tool's login, the LMS authorization. Returns the form the LMS would post. */
  async beginLaunch(devlmsUrl: string, login: string, query: Record<string, string> = {}): Promise<{ action: string; fields: Record<string, string>; loginUrl: string }> {
    const qs = new URLSearchParams(query).toString();
    const lmsPage = await this.request(`${devlmsUrl}/launch/${login}${qs ? `?${qs}` : ''}`);
    if (lmsPage.status !== 200) throw new Error(`the dev LMS launch page answered ${lmsPage.status}: ${lmsPage.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 300)}`);
    const loginUrl = attr(lmsPage.html, /<iframe[^>]*>/i, 'src');
    if (!loginUrl) throw new Error('the dev LMS launch page has no iframe');
    const authPage = await this.request(new URL(loginUrl, devlmsUrl).href);
    if (authPage.status !== 200) throw new Error(`the login through the tool ended with ${authPage.status}: ${authPage.html.slice(0, 300)}`);
    const form = formFields(authPage.html);
    if (!form.action || !form.fields.id_token) throw new Error(`no id_token form from the LMS (status ${authPage.status}): ${authPage.html.slice(0, 300)}`);
    return { action: form.action, fields: form.fields, loginUrl: new URL(loginUrl, devlmsUrl).href };
  }

  /** Steps 1–2 only: the tool's login answers with a redirect to the LMS's /auth URL (its state cookie set). */
  async startLogin(devlmsUrl: string, login: string, query: Record<string, string> = {}): Promise<{ loginUrl: string; authUrl: string; response: Page }> {
    const qs = new URLSearchParams(query).toString();
    const lmsPage = await this.request(`${devlmsUrl}/launch/${login}${qs ? `?${qs}` : ''}`);
    const loginUrl = new URL(attr(lmsPage.html, /<iframe[^>]*>/i, 'src') ?? '', devlmsUrl).href;
    const response = await this.request(loginUrl, { follow: false });
    return { loginUrl, authUrl: response.headers.get('location') ?? '', response };
  }

  /** Step 4 onwards: the LMS's form post to the tool, following the tool's redirects to the role's home. */
  async finishLaunch(form: { action: string; fields: Record<string, string> }): Promise<Page> {
    return this.request(form.action, { form: form.fields });
  }

  async launch(devlmsUrl: string, login: string, query: Record<string, string> = {}): Promise<ToolSession> {
    const page = await this.finishLaunch(await this.beginLaunch(devlmsUrl, login, query));
    if (page.status !== 200) throw new Error(`launch of ${login} ended with ${page.status}: ${page.html.slice(0, 500)}`);
    return new ToolSession(this, page);
  }
}

/** A person inside the tool after a launch: requests carry the ltik (Bearer), the cookie and the CSRF token. */
export class ToolSession {
  readonly ltik: string;
  readonly csrf: string;
  readonly toolOrigin: string;

  constructor(
    readonly browser: LtiBrowser,
    readonly home: Page,
  ) {
    const ltik = metaContent(home.html, 'ltik');
    const csrf = metaContent(home.html, 'csrf-token');
    if (!ltik || !csrf) throw new Error('the page after launch has no ltik or csrf meta tag');
    this.ltik = ltik;
    this.csrf = csrf;
    this.toolOrigin = new URL(home.url).origin;
  }

  /** A request as the page's htmx would make it (Bearer ltik + CSRF header), or as a plain form with `asForm`. */
  request(path: string, options: RequestOptions & { htmx?: boolean; csrf?: boolean } = {}): Promise<Page> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.ltik}`, ...(options.headers ?? {}) };
    if (options.csrf !== false) headers['x-csrf-token'] = this.csrf;
    if (options.htmx) headers['hx-request'] = 'true';
    return this.browser.request(new URL(path, this.toolOrigin).href, { ...options, headers });
  }

  get(path: string, options: RequestOptions & { htmx?: boolean } = {}): Promise<Page> {
    return this.request(path, { ...options, method: 'GET' });
  }

  post(path: string, form: Record<string, string | string[]>, options: RequestOptions & { htmx?: boolean; csrf?: boolean } = {}): Promise<Page> {
    return this.request(path, { ...options, method: 'POST', form });
  }
}
