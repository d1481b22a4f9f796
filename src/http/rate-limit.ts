import { isIPv4, isIPv6 } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RateLimitSettings } from '../config.js';
import { actorOf } from '../lti/actor.js';
import { TooManyRequests } from '../errors.js';

/**
 * Rate limits, in memory, per web process. Each limiter is a token bucket of `limit` requests that refills at
 * `limit` per window, kept as one number per key (GCRA: the time the bucket would be full again), so a key costs
 * a map entry and a number. Memory is bounded: a limiter tracks at most `maxKeys` keys (RATE_LIMIT_MAX_KEYS) and
 * forgets the least recently seen one first; that key starts again with a full bucket, which loses nothing once it
 * has been idle for a window, so the bound only loosens a limit while more than maxKeys clients are active in the
 * same minute. Measured (Node 20) at 80–90 bytes per IPv4 or user key and about 175 per IPv6 key: with the default
 * 10,000 keys, under 2 MB per limiter and 14 MB for the eight limiters of a process at worst.
 *
 * The limits are per process: behind N web processes a client may get up to N times the limit, and a restart
 * forgets every count. That is the point of keeping them in memory (no database write per request, which is what
 * a login flood would otherwise cost); a deployment that needs exact global limits puts them in its proxy.
 */

export interface RateLimiterOptions {
  /** Requests allowed at once (the bucket), and per window once it is used up. */
  limit: number;
  windowMs: number;
  /** The most keys tracked; the least recently seen is forgotten first. */
  maxKeys: number;
  /** The clock (tests move it by hand). */
  now?: () => number;
}

// Floating-point slack: limit × (windowMs / limit) may come out a hair above windowMs.
const EPSILON_MS = 1e-6;

export class RateLimiter {
  /** key → theoretical arrival time: when the key's bucket would be full again. Map order = least recently seen first. */
  private readonly tats = new Map<string, number>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0) || !(options.maxKeys >= 1)) throw new RangeError('a rate limiter needs limit ≥ 1, windowMs > 0 and maxKeys ≥ 1');
    this.intervalMs = options.windowMs / options.limit;
    this.now = options.now ?? Date.now;
  }

  /** How many keys are tracked (never more than maxKeys). */
  get size(): number {
    return this.tats.size;
  }

  /** Milliseconds until `key` may make one more request: 0 when it may now. Counts nothing. */
  waitMs(key: string): number {
    const now = this.now();
    const next = Math.max(this.tats.get(key) ?? now, now) + this.intervalMs;
    const wait = next - now - this.options.windowMs;
    return wait > EPSILON_MS ? wait : 0;
  }

  /** Counts one request of `key` (whether or not it was allowed: call waitMs first). */
  hit(key: string): void {
    const now = this.now();
    const next = Math.max(this.tats.get(key) ?? now, now) + this.intervalMs;
    this.remember(key, next);
  }

  /** Counts one request of `key` when allowed and returns 0; otherwise returns the milliseconds to wait. */
  take(key: string): number {
    const wait = this.waitMs(key);
    if (wait > 0) this.touch(key);
    else this.hit(key);
    return wait;
  }

  /** A refused key stays the most recently seen, so a flood cannot push its own key out of the map. */
  touch(key: string): void {
    const tat = this.tats.get(key);
    if (tat !== undefined) this.remember(key, tat);
  }

  private remember(key: string, tat: number): void {
    this.tats.delete(key);
    if (this.tats.size >= this.options.maxKeys) {
      const oldest = this.tats.keys().next();
      if (!oldest.done) this.tats.delete(oldest.value);
    }
    this.tats.set(key, tat);
  }
}

/** Retry-After is whole seconds, at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

/**
 * The client a per-IP limit counts: `req.ip`, so `trust proxy` decides which address that is. IPv4 (also when
 * mapped into IPv6) counts per address; IPv6 per /64, the block one network gets (anyone can rotate through the
 * addresses of their own /64, so counting single addresses would not limit anybody).
 */
export function clientKey(req: Request): string {
  const ip = (req.ip ?? req.socket.remoteAddress ?? '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  if (isIPv6(ip)) return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
  return 'unknown';
}

/** One limit a request must be within: the limiter, what it counts by (null: not counted), what a refusal says. */
export interface LimitRule {
  limiter: RateLimiter;
  key(req: Request, res: Response): string | null;
  /** The refusal message, given the whole seconds to wait. */
  message(seconds: number): string;
}

/**
 * Refuses a request with 429 and Retry-After (through the error handler: a page, an htmx fragment or JSON) when any
 * rule's limit is used up; otherwise counts it against every rule. A refused request counts against none.
 */
export function rateLimit(...rules: LimitRule[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const keyed = rules.map((rule) => ({ rule, key: rule.key(req, res) })).filter((k): k is { rule: LimitRule; key: string } => k.key !== null);
    let refusal: { rule: LimitRule; key: string; waitMs: number } | undefined;
    for (const k of keyed) {
      const waitMs = k.rule.limiter.waitMs(k.key);
      if (waitMs > 0 && (!refusal || waitMs > refusal.waitMs)) refusal = { ...k, waitMs };
    }
    if (refusal) {
      for (const k of keyed) k.rule.limiter.touch(k.key);
      const seconds = retryAfterSeconds(refusal.waitMs);
      return next(TooManyRequests(refusal.rule.message(seconds), seconds));
    }
    for (const k of keyed) k.rule.limiter.hit(k.key);
    next();
  };
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The handler for writes only (reads pass untouched). */
export function writesOnly(handler: RequestHandler): RequestHandler {
  return (req, res, next) => (READS.has(req.method) ? next() : handler(req, res, next));
}

const inSeconds = (s: number) => (s === 1 ? '1 second' : `${s} seconds`);
const byIp = (req: Request) => clientKey(req);
const byUser = (_req: Request, res: Response) => {
  const actor = actorOf(res);
  return `${actor.platformId}:${actor.userId}`;
};
const byCourse = (_req: Request, res: Response) => {
  const actor = actorOf(res);
  return actor.courseId === null ? null : `${actor.platformId}:${actor.courseId}`;
};

export interface RateLimits {
  /** Per IP: OIDC login initiations (each may write an ltijs state row). */
  ltiLogin: RequestHandler;
  /** Per IP: id_token posts (each verifies a signature and may fetch keys). */
  ltiLaunch: RequestHandler;
  /** Per IP: dynamic registration links (one-time tokens: this also bounds guessing). */
  ltiRegistration: RequestHandler;
  /** Per IP: the tool's public keys (LMSs fetch them often; generous). */
  ltiKeys: RequestHandler;
  /** Per person: submissions. */
  submissions: RequestHandler;
  /** Per person: file previews (each reads a PDF or Word file), as many as submissions but counted apart. */
  filePreviews: RequestHandler;
  /** Per person and per course: sample tests (real-time provider calls), in the editor and through the API. */
  sampleTests: RequestHandler;
  /** Per person: JSON API writes (mount on /api; reads pass). */
  apiWrites: RequestHandler;
}

/** The limits of one app (one set per process), from the configuration. */
export function createRateLimits(s: RateLimitSettings, now?: () => number): RateLimits {
  const limiter = (limit: number) => new RateLimiter({ limit, windowMs: 60_000, maxKeys: s.maxKeys, now });
  const launchMessage = (seconds: number) =>
    `Too many launches from your network at once. Please open the tool again from your course in ${inSeconds(seconds)}.`;
  return {
    ltiLogin: rateLimit({ limiter: limiter(s.ltiLaunchesPerIp), key: byIp, message: launchMessage }),
    ltiLaunch: rateLimit({ limiter: limiter(s.ltiLaunchesPerIp), key: byIp, message: launchMessage }),
    ltiRegistration: rateLimit({
      limiter: limiter(s.ltiRegistrationsPerIp),
      key: byIp,
      message: (seconds) => `Too many registration attempts from your network. Try again in ${inSeconds(seconds)}.`,
    }),
    ltiKeys: rateLimit({ limiter: limiter(s.ltiKeysPerIp), key: byIp, message: (seconds) => `Too many key requests from your network. Try again in ${inSeconds(seconds)}.` }),
    submissions: rateLimit({
      limiter: limiter(s.submissionsPerUser),
      key: byUser,
      message: (seconds) => `You are submitting too quickly. Please wait ${inSeconds(seconds)} and submit again.`,
    }),
    filePreviews: rateLimit({
      limiter: limiter(s.submissionsPerUser),
      key: byUser,
      message: (seconds) => `You are checking files too quickly. Please wait ${inSeconds(seconds)} and choose the file again.`,
    }),
    sampleTests: rateLimit(
      {
        limiter: limiter(s.sampleTestsPerUser),
        key: byUser,
        message: (seconds) => `You have used up your sample tests for now (${s.sampleTestsPerUser} a minute). Try again in ${inSeconds(seconds)}.`,
      },
      {
        limiter: limiter(s.sampleTestsPerCourse),
        key: byCourse,
        message: (seconds) => `This course has used up its sample tests for now (${s.sampleTestsPerCourse} a minute for all its instructors). Try again in ${inSeconds(seconds)}.`,
      },
    ),
    apiWrites: writesOnly(
      rateLimit({
        limiter: limiter(s.apiWritesPerUser),
        key: byUser,
        message: (seconds) => `Too many changes through the API (at most ${s.apiWritesPerUser} a minute). Retry after ${inSeconds(seconds)}.`,
      }),
    ),
  };
}
