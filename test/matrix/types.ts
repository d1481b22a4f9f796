import type { Stack } from '../helpers/stack.js';
import type { ToolSession } from '../helpers/lti-browser.js';

export type Who = 'student' | 'instructor' | 'administrator';

/** What an area's setup gets: the stack, a session per role of the home tenant, and the home tenant's ids. */
export interface MatrixContext {
  stack: Stack;
  sessions: Record<Who, ToolSession>;
  home: { platformId: number; courseId: number; taskId: number; instructorId: number; studentId: number };
}

export interface RouteCase {
  /** `METHOD /path/:param` exactly as the router declares it. */
  route: string;
  allowed: Who[];
  /** The concrete path, with the ids an area's setup returned (plus the home ids). */
  path: (ids: Record<string, number | string>) => string;
  /** A form body (sent as an htmx request) or a JSON body (sent to the JSON API). */
  form?: Record<string, string>;
  json?: unknown;
  /** The status an allowed role gets (default 200). */
  okStatus?: number;
  /** Routes about one record: sessions of another course or platform must get 404 and nothing of it. */
  tenantScoped?: boolean;
  /** Only reachable from a deep-linking launch: any other session is a 400, whatever the role. */
  deepLinkingOnly?: boolean;
  /**
   * A request that changes state can only succeed once (e.g. a delete): the allowed roles are checked with
   * a fresh record each time through this hook, which returns the ids to use.
   */
  fresh?: (ctx: MatrixContext, who?: Who) => Promise<Record<string, number | string>>;
}

/** One area's routes (one file per area in test/matrix/*.area.ts, found by the matrix test). */
export interface MatrixArea {
  name: string;
  /** Creates the records the area's routes need in the home tenant; returns their ids for `path`. */
  setup?: (ctx: MatrixContext) => Promise<Record<string, number | string>>;
  routes: RouteCase[];
}
