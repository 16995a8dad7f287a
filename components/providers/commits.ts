// What the two fleet commit providers (GitHub's API, git over SSH) share: attempts, results, outputs.
import { gitBlobSha } from "../../manifests/fleetPlan";
import { sleep } from "./exec";

/** Attempts at a commit that loses the race for the branch to another push. */
export const MAX_ATTEMPTS = 5;

/** The pause before planning again after a push lost the race for the branch: 0.5 s, 1 s, 2 s, ... */
export function raceBackoff(attempt: number): Promise<void> {
  return sleep(250 * 2 ** attempt);
}

/** The message of a commit changing `count` files. */
export function commitMessage(subject: string, count: number): string {
  return `${subject}: ${count} file${count === 1 ? "" : "s"} changed`;
}

/** What one sync did. */
export interface SyncResult {
  readonly commitSha: string;
  readonly commits: number;
}

/**
 * The state a refresh reads back: this stack's files as the branch now holds them. A file changed or
 * deleted out of band then differs from what the program renders, so the next up writes it again.
 */
export function withDrift<T extends { readonly files: Record<string, string>; readonly paths: readonly string[] }>(
  props: T,
  current: ReadonlyMap<string, string | undefined>,
): T {
  const files = { ...props.files };
  for (const [p, text] of current) {
    if (text === undefined) delete files[p];
    else files[p] = text;
  }
  return { ...props, files };
}

/**
 * This stack's files that differ on the branch (`shas`: path -> blob SHA of the branch's files), each
 * with its text there (`text` reads a blob), or undefined where the branch no longer has it.
 */
export async function driftedFiles(
  props: { readonly files: Record<string, string>; readonly paths: readonly string[] },
  shas: ReadonlyMap<string, string>,
  text: (sha: string) => Promise<string>,
): Promise<Map<string, string | undefined>> {
  const drift = new Map<string, string | undefined>();
  for (const path of props.paths) {
    const sha = shas.get(path);
    if (sha !== gitBlobSha(props.files[path] ?? "")) drift.set(path, sha === undefined ? undefined : await text(sha));
  }
  return drift;
}

/** A commit provider's outputs: its inputs, the head it left, Flux's name for it, and the paths it owns. */
export function commitOutputs<T extends { readonly branch: string }>(
  inputs: T,
  result: SyncResult,
  paths: string[],
): T & { commitSha: string; revision: string; paths: string[]; commits: number } {
  return { ...inputs, commitSha: result.commitSha, revision: `${inputs.branch}@sha1:${result.commitSha}`, paths: [...paths].sort(), commits: result.commits };
}
