/**
 * A minimal cookie jar for tests driving the launch flow over real HTTP. Cookies belong to a host name, not a
 * port (as in browsers, trap 11): the tool on localhost and the dev LMS on 127.0.0.1 keep separate cookies.
 * Secure/Partitioned are recorded but not enforced (tests speak plain http to loopback).
 */
export interface StoredCookie {
  name: string;
  value: string;
  attributes: string;
}

export class CookieJar {
  private byHost = new Map<string, Map<string, StoredCookie>>();

  store(url: string, response: Response): void {
    const host = new URL(url).hostname;
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attrs] = header.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const attributes = attrs.join(';');
      const jar = this.byHost.get(host) ?? new Map<string, StoredCookie>();
      const expired = /max-age=0\b/i.test(attributes) || /expires=Thu, 01 Jan 1970/i.test(attributes);
      if (expired) jar.delete(name);
      else jar.set(name, { name, value, attributes });
      this.byHost.set(host, jar);
    }
  }

  header(url: string): string {
    const jar = this.byHost.get(new URL(url).hostname);
    return jar ? [...jar.values()].map((c) => `${c.name}=${c.value}`).join('; ') : '';
  }

  all(host: string): StoredCookie[] {
    return [...(this.byHost.get(host)?.values() ?? [])];
  }

  remove(host: string, predicate: (c: StoredCookie) => boolean): void {
    const jar = this.byHost.get(host);
    if (!jar) return;
    for (const [name, c] of jar) if (predicate(c)) jar.delete(name);
  }

  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [host, jar] of this.byHost) copy.byHost.set(host, new Map(jar));
    return copy;
  }
}
