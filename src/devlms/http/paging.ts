import { z } from 'zod';

/**
 * `limit` + `page` paging for the AGS and NRPS containers. The page size is small by default on purpose: a tool
 * that ignores `Link: rel="next"` loses members or line items here, as it would in Canvas.
 */
export const pagingQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(10),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
};

export function offsetOf(p: { limit: number; page: number }): number {
  return (p.page - 1) * p.limit;
}

/** The `Link` header for the next page: the same absolute URL and filters, the page after this one. */
export function nextLink(baseUrl: string, query: Record<string, string | number | undefined>, page: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && k !== 'page') params.set(k, String(v));
  params.set('page', String(page + 1));
  return `<${baseUrl}?${params.toString()}>; rel="next"`;
}
