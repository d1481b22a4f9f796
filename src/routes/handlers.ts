import type { Request, Response } from 'express';

/** A route's handler: a named function taking what its router was made with, below the router's route table. */
export type RouteHandler<D> = (deps: D, req: Request, res: Response) => Promise<void>;

/** Binds handlers to a router's dependencies: `const on = withDeps(deps); router.get(path, on(handler))`. */
export function withDeps<D>(deps: D): (handler: RouteHandler<D>) => (req: Request, res: Response) => Promise<void> {
  return (handler) => (req, res) => handler(deps, req, res);
}
