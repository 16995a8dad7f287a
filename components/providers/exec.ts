// Running the CLIs the dynamic providers drive (kind, kubectl), with errors that carry their stderr; shared helpers.
import type * as pulumi from "@pulumi/pulumi";
import { execFile } from "child_process";
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** A CLI that failed; `stderr` is what it said. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
    readonly code: number | string | undefined,
  ) {
    super(`${command} failed (${code ?? "?"}): ${stderr.trim() || "no output"}`);
    this.name = "CommandError";
  }
}

/** Runs `file args`, feeding `input` (or nothing) on stdin; rejects with CommandError. A missing CLI says how to get it. */
export function run(file: string, args: readonly string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") {
        return reject(new CommandError(file, `${file} is not on PATH; install it (see the README's prerequisites)`, code));
      }
      reject(new CommandError(`${file} ${args.slice(0, 3).join(" ")}`, stderr || err.message, (err as { code?: number }).code));
    });
    // stdin is always closed: a CLI that would prompt (kubectl asks for a username when a kubeconfig
    // has no credentials) reads end-of-file and fails instead of waiting for ever.
    child.stdin?.end(input);
  });
}

/** Calls `fn` with the path of a private temporary file holding `text`; removes it afterwards. */
export async function withTempFile<T>(name: string, text: string, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fmt-"));
  const file = path.join(dir, name);
  try {
    await fs.writeFile(file, text, { mode: 0o600 });
    return await fn(file);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A dynamic resource's args: each of the provider's inputs, as a Pulumi Input. */
export type DynamicArgs<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/**
 * Whether `news` differs from `olds` in nothing but `credentials`. A credential is how a provider
 * reaches what it manages, not what it makes there: a new one alone is an update that records it
 * (so a later refresh or delete uses the current one, not the one of the create) and does nothing else.
 */
export function onlyCredentialsChanged<T extends object>(olds: T, news: T, credentials: readonly (keyof T)[]): boolean {
  return (Object.keys(news) as (keyof T)[]).every((k) => credentials.includes(k) || JSON.stringify(olds[k]) === JSON.stringify(news[k]));
}
