// Runs a program the config names: an argument list (never a shell), the environment it is given
// and nothing else, a deadline after which its whole process group is stopped (TERM, then KILL),
// and the tail of what it printed kept — a command that prints a gigabyte costs a few KiB here.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What is kept of each stream: its last bytes, and how many came before them. */
export interface OutputTail {
  text: string;
  droppedBytes: number;
}

export interface CommandResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  ms: number;
  stdout: OutputTail;
  stderr: OutputTail;
}

export interface RunCommandOptions {
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** How long a command has after TERM before KILL, once its time is up. */
  graceMs?: number;
  /** Bytes kept of each stream. */
  keepBytes?: number;
  /** Told the process id once it runs (recorded, so a resumed run can say what it left behind). */
  onStart?: (pid: number) => void;
}

export class CommandNotStarted extends Error {}

export function runCommand(argv: string[], options: RunCommandOptions): Promise<CommandResult> {
  const [program, ...args] = argv;
  if (!program) return Promise.reject(new CommandNotStarted('no program named'));
  const keep = options.keepBytes ?? 64 * 1024;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Its own process group, so the deadline stops what it started too (a shell script's children).
    const child = spawn(program, args, {
      env: options.env,
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = tail(keep);
    const stderr = tail(keep);
    child.stdout.on('data', stdout.push);
    child.stderr.on('data', stderr.push);
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), options.graceMs ?? 5_000);
    }, options.timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      reject(
        new CommandNotStarted(
          error.code === 'ENOENT'
            ? `${program} was not found (PATH=${options.env.PATH ?? ''})`
            : error.code === 'EACCES'
              ? `${program} is not executable`
              : error.message,
        ),
      );
    });
    child.on('spawn', () => {
      if (child.pid !== undefined) options.onStart?.(child.pid);
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(deadline);
      clearTimeout(killTimer);
      // Whatever it left running in its group goes with it.
      if (timedOut) signalGroup('SIGKILL');
      resolve({
        exitCode,
        signal,
        timedOut,
        ms: Date.now() - started,
        stdout: stdout.result(),
        stderr: stderr.result(),
      });
    });
  });
}

function tail(keep: number): { push: (chunk: Buffer) => void; result: () => OutputTail } {
  let chunks: Buffer[] = [];
  let held = 0;
  let dropped = 0;
  return {
    push: (chunk: Buffer) => {
      chunks.push(chunk);
      held += chunk.length;
      if (held > keep * 2) {
        const all = Buffer.concat(chunks);
        dropped += all.length - keep;
        chunks = [all.subarray(all.length - keep)];
        held = keep;
      }
    },
    result: () => {
      const all = Buffer.concat(chunks);
      const cut = Math.max(0, all.length - keep);
      return { text: all.subarray(cut).toString('utf8'), droppedBytes: dropped + cut };
    },
  };
}

/**
 * The last `lines` non-empty lines of `text`, at most `max` characters (the end kept), for a
 * summary or a thread message; the report has the rest.
 */
export function lastLines(text: string, lines: number, max = 600): string {
  const kept = text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-lines)
    .join('\n');
  return kept.length > max ? `…${kept.slice(kept.length - max + 1)}` : kept;
}

/** An argument list as a person would type it: quoted only where a shell would need it. */
export function showCommand(argv: string[]): string {
  return argv
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/**
 * The processes still running with `NAME=value` in their environment (Linux's /proc; processes
 * of other users are not readable and not seen), each with its command line — or null where
 * there is no /proc to look in.
 */
export function processesWithEnv(
  name: string,
  value: string,
  proc = '/proc',
): { pid: number; group: number; command: string }[] | null {
  let entries: string[];
  try {
    entries = readdirSync(proc);
  } catch {
    return null;
  }
  const wanted = `${name}=${value}`;
  const found: { pid: number; group: number; command: string }[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`${proc}/${entry}/environ`, 'latin1').split('\0');
      if (!environ.includes(wanted)) continue;
      const stat = readFileSync(`${proc}/${entry}/stat`, 'latin1');
      // After "pid (comm) ": state, parent, process group.
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue; // a zombie runs nothing
      const command = readFileSync(`${proc}/${entry}/cmdline`, 'latin1')
        .split('\0')
        .filter(Boolean)
        .join(' ');
      found.push({ pid: Number(entry), group: Number(group), command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
