// What the two fleet commit providers (GitHub's API, git over SSH) share: attempts, results, outputs.

/** Attempts at a commit that loses the race for the branch to another push. */
export const MAX_ATTEMPTS = 5;

/** What one sync did. */
export interface SyncResult {
  readonly commitSha: string;
  readonly commits: number;
}

/** A commit provider's outputs: its inputs, the head it left, Flux's name for it, and the paths it owns. */
export function commitOutputs<T extends { readonly branch: string }>(
  inputs: T,
  result: SyncResult,
  paths: string[],
): T & { commitSha: string; revision: string; paths: string[]; commits: number } {
  return { ...inputs, commitSha: result.commitSha, revision: `${inputs.branch}@sha1:${result.commitSha}`, paths: [...paths].sort(), commits: result.commits };
}
