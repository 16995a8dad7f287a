// What the two fleet commit providers (GitHub's API, git over SSH) share: attempts, results, outputs.
import { gitBlobSha } from "../../manifests/fleetPlan";
import { onlyCredentialsChanged, sleep } from "./exec";

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
 * What a commit provider records of this stack's files: each path's Git blob SHA, not its text. The text is the
 * resource's input already (the fleet's gotk-components.yaml alone is some 300 KB); the SHA says whether the branch
 * still holds it. State written before this kept `files` in the outputs: their SHAs are computed from it.
 */
export type FileShas = Record<string, string>;

export function fileShas(files: Readonly<Record<string, string>>): FileShas {
  return Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((p) => [p, gitBlobSha(files[p])]),
  );
}

/** The SHAs a resource's state records (`fileShas`, or computed from the `files` of a state written before them). */
export function recordedShas(props: { readonly fileShas?: FileShas; readonly files?: Record<string, string> }): FileShas {
  return props.fileShas
    ? Object.fromEntries(
        Object.keys(props.fileShas)
          .sort()
          .map((p) => [p, props.fileShas![p]]),
      )
    : fileShas(props.files ?? {});
}

/** Whether the state records exactly `files` (what the program renders now). */
export function recordsFiles(
  olds: { readonly fileShas?: FileShas; readonly files?: Record<string, string> },
  files: Readonly<Record<string, string>>,
): boolean {
  return JSON.stringify(recordedShas(olds)) === JSON.stringify(fileShas(files));
}

/**
 * Whether `news` differs from the state `olds` in nothing but `credentials`: the files by their SHAs, every other
 * input by value. A new credential alone is recorded without a write.
 */
export function onlyCredentialsOfCommitChanged<T extends { readonly files: Record<string, string> }>(
  olds: Partial<T> & { readonly fileShas?: FileShas },
  news: T,
  credentials: readonly (keyof T)[],
): boolean {
  return recordsFiles(olds, news.files) && onlyCredentialsChanged(olds as T, news, [...credentials, "files"]);
}

/**
 * The state a refresh reads back: this stack's files as the branch now holds them, by SHA. A file changed or
 * deleted out of band then differs from what the program renders, so the next up writes it again.
 */
export function withDrift<T extends { readonly fileShas?: FileShas; readonly files?: Record<string, string>; readonly paths: readonly string[] }>(
  props: T,
  current: ReadonlyMap<string, string | undefined>,
): Omit<T, "files"> & { fileShas: FileShas } {
  const shas = { ...recordedShas(props) };
  for (const [p, sha] of current) {
    if (sha === undefined) delete shas[p];
    else shas[p] = sha;
  }
  const rest: Omit<T, "files"> & { files?: unknown } = { ...props };
  delete rest.files;
  return { ...rest, fileShas: shas };
}

/**
 * This stack's files that differ on the branch (`shas`: path -> blob SHA of the branch's files), each with its SHA
 * there, or undefined where the branch no longer has it.
 */
export function driftedFiles(
  props: { readonly fileShas?: FileShas; readonly files?: Record<string, string>; readonly paths: readonly string[] },
  shas: ReadonlyMap<string, string>,
): Map<string, string | undefined> {
  const recorded = recordedShas(props);
  const drift = new Map<string, string | undefined>();
  for (const path of props.paths) {
    const sha = shas.get(path);
    if (sha !== recorded[path]) drift.set(path, sha);
  }
  return drift;
}

/** A commit provider's outputs: its inputs but the files' texts (their SHAs instead), the head it left, Flux's name for it, the paths it owns. */
export function commitOutputs<T extends { readonly branch: string; readonly files: Record<string, string> }>(
  inputs: T,
  result: SyncResult,
  paths: string[],
): Omit<T, "files"> & { fileShas: FileShas; commitSha: string; revision: string; paths: string[]; commits: number } {
  const { files, ...rest } = inputs;
  return {
    ...rest,
    fileShas: fileShas(files),
    commitSha: result.commitSha,
    revision: `${inputs.branch}@sha1:${result.commitSha}`,
    paths: [...paths].sort(),
    commits: result.commits,
  };
}
