// What the two fleet commit providers (GitHub's API, git over SSH) share: attempts, results, outputs.

/** Attempts at a commit that loses the race for the branch to another push. */
export const MAX_ATTEMPTS = 5;

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

/** A commit provider's outputs: its inputs, the head it left, Flux's name for it, and the paths it owns. */
export function commitOutputs<T extends { readonly branch: string }>(
  inputs: T,
  result: SyncResult,
  paths: string[],
): T & { commitSha: string; revision: string; paths: string[]; commits: number } {
  return { ...inputs, commitSha: result.commitSha, revision: `${inputs.branch}@sha1:${result.commitSha}`, paths: [...paths].sort(), commits: result.commits };
}
