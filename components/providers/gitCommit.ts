// Dynamic provider committing this stack's fleet files to a GitHub branch: one commit per up for all changed files.
// (A tenant repository's starter layout is another resource with the opposite rule: tenantSeed.ts.)
import * as pulumi from "@pulumi/pulumi";
import type { Octokit } from "@octokit/rest" with { "resolution-mode": "import" };
import { githubClient, status } from "./github";
import { commitWrites, FLEET_ROOTS, type FleetPlan, planFleetCommit, referenceCandidates } from "../../manifests/fleetPlan";
import {
  commitMessage,
  commitOutputs,
  driftedFiles,
  type FileShas,
  MAX_ATTEMPTS,
  onlyCredentialsOfCommitChanged,
  raceBackoff,
  recordsFiles,
  type SyncResult,
  withDrift,
} from "./commits";
import type { DynamicArgs } from "./exec";
import { byReference } from "./reference";

export interface GitCommitInputs {
  readonly owner: string;
  readonly repository: string;
  readonly branch: string;
  /** This stack's files: written, updated, deleted with the stack; shared files guarded. */
  readonly files: Record<string, string>;
  /** Commit message subject. */
  readonly message: string;
  /** Write shared files even where another stack reads a different version (a deliberate change). */
  readonly overwriteShared: boolean;
  /** GitHub token (github:token); "" for GITHUB_TOKEN, as githubToken says. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

export interface GitCommitOutputs extends Omit<GitCommitInputs, "files"> {
  /** Git blob SHA of each of this stack's files as last written or read back (their texts are the inputs). */
  readonly fileShas: FileShas;
  /** The texts themselves: in state written before \`fileShas\` only. */
  readonly files?: Record<string, string>;
  /** The branch head after this commit (or the unchanged head). */
  readonly commitSha: string;
  /** `<branch>@sha1:<sha>`, as Flux reports the revision it applied. */
  readonly revision: string;
  /** Paths this resource committed, so a later up or destroy can delete what it no longer renders. */
  readonly paths: string[];
  /** Commits this resource made in its last operation (0 when nothing changed). */
  readonly commits: number;
}

async function headOf(gh: Octokit, owner: string, repo: string, branch: string): Promise<string | undefined> {
  try {
    return (await gh.rest.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha;
  } catch (e) {
    if (status(e) === 404 || status(e) === 409) return undefined; // no such branch, or an empty repository
    throw e;
  }
}

function accessError(owner: string, repo: string, cause: unknown): Error {
  return new Error(
    `GitHub repository ${owner}/${repo} is not found, or the token cannot see it; create it (or set create: true), and use a token with access to it`,
    { cause },
  );
}

function noAdminError(owner: string, repo: string): Error {
  return new Error(
    `the GitHub token has no admin rights on ${owner}/${repo}, and adding deploy keys needs them: use a classic token with the repo scope held by a repository admin, or a fine-grained token with Administration and Contents read/write`,
  );
}

/** The repository as GitHub reports it, checked for what the program needs: it exists, and the token may add deploy keys. */
export async function accessibleRepository(gh: Octokit, owner: string, repo: string): Promise<{ default_branch: string }> {
  let data;
  try {
    data = (await gh.rest.repos.get({ owner, repo })).data;
  } catch (e) {
    throw status(e) === 404 ? accessError(owner, repo, e) : e;
  }
  if (data.permissions && !data.permissions.admin) throw noAdminError(owner, repo);
  return data;
}

/** The checked repository's default branch, and whether it has no commit yet. */
async function checkAccess(gh: Octokit, owner: string, repo: string): Promise<{ defaultBranch: string; empty: boolean }> {
  const data = await accessibleRepository(gh, owner, repo);
  return { defaultBranch: data.default_branch, empty: !(await hasCommits(gh, owner, repo, data.default_branch)) };
}

/** Path -> blob SHA of the files of a tree listing, under `roots` (all by default). */
export function blobShas(entries: readonly { type?: string; path?: string; sha?: string }[], roots: readonly string[] = [""]): Map<string, string> {
  return new Map(entries.filter((e) => e.type === "blob" && e.path !== undefined && roots.some((r) => e.path!.startsWith(r))).map((e) => [e.path!, e.sha!]));
}

/**
 * Whether the repository has any commit, read from its refs: GitHub computes a repository's `size`
 * lazily and reports 0 for new repositories that do have a first commit.
 */
async function hasCommits(gh: Octokit, owner: string, repo: string, defaultBranch: string): Promise<boolean> {
  try {
    return (await gh.rest.git.listMatchingRefs({ owner, repo, ref: "heads" })).data.length > 0;
  } catch (e) {
    if (status(e) === 409) return false; // "Git Repository is empty."
    // A server without this endpoint: the default branch's head tells as well.
    return (await headOf(gh, owner, repo, defaultBranch)) !== undefined;
  }
}

/**
 * Brings the branch to `desired` in one commit (none when nothing differs): the planned writes and
 * deletes go into one tree on top of the current head; a push that loses a race is planned again.
 */
export async function syncTree(inputs: GitCommitInputs, desired: Record<string, string>, previous: readonly string[]): Promise<SyncResult> {
  const gh = githubClient(inputs);
  const { owner, repository: repo, branch } = inputs;
  const access = await checkAccess(gh, owner, repo);
  let commits = 0;
  for (let attempt = 1; ; attempt++) {
    let head = await headOf(gh, owner, repo, branch);
    const branchExists = head !== undefined;
    if (head === undefined && !access.empty) head = await headOf(gh, owner, repo, access.defaultBranch);
    if (head === undefined) {
      // An empty repository takes no Git objects through the API until it has a first commit.
      const [first] = Object.keys(desired).sort();
      if (first === undefined) return { commitSha: "", commits };
      if (!access.empty) throw new Error(`${owner}/${repo} has no branch ${branch} and no default branch ${access.defaultBranch} to start it from`);
      await gh.rest.repos.createOrUpdateFileContents({
        owner,
        repo,
        path: first,
        branch,
        message: `${inputs.message} (initialise)`,
        content: Buffer.from(desired[first], "utf8").toString("base64"),
      });
      commits++;
      access.empty = false;
      if (attempt >= MAX_ATTEMPTS) throw new Error(`${owner}/${repo}: branch ${branch} did not appear after its first commit`);
      continue;
    }
    const commit = (await gh.rest.git.getCommit({ owner, repo, commit_sha: head })).data;
    const tree = (await gh.rest.git.getTree({ owner, repo, tree_sha: commit.tree.sha, recursive: "true" })).data;
    if (tree.truncated) throw new Error(`${owner}/${repo} has more files than GitHub lists in one tree; the fleet repository must stay below that size`);
    const current = blobShas(tree.tree, FLEET_ROOTS);
    const texts = new Map<string, string>();
    const ours = new Set([...Object.keys(desired), ...previous]);
    for (const p of referenceCandidates(current.keys(), ours)) {
      const blob = (await gh.rest.git.getBlob({ owner, repo, file_sha: current.get(p)! })).data;
      texts.set(p, Buffer.from(blob.content, "base64").toString("utf8"));
    }
    const plan: FleetPlan = planFleetCommit({ desired, previous, current, texts });
    const writes = commitWrites(plan, desired, inputs.overwriteShared);
    if (Object.keys(writes).length === 0 && plan.deletes.length === 0) {
      if (!branchExists) await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: head });
      return { commitSha: head, commits };
    }
    const newTree = await gh.rest.git.createTree({
      owner,
      repo,
      base_tree: commit.tree.sha,
      tree: [
        ...Object.entries(writes).map(([path, content]) => ({ path, mode: "100644" as const, type: "blob" as const, content })),
        ...plan.deletes.map((path) => ({ path, mode: "100644" as const, type: "blob" as const, sha: null })),
      ],
    });
    const count = Object.keys(writes).length + plan.deletes.length;
    const created = await gh.rest.git.createCommit({
      owner,
      repo,
      message: commitMessage(inputs.message, count),
      tree: newTree.data.sha,
      parents: [head],
    });
    try {
      if (branchExists) {
        await gh.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: created.data.sha, force: false });
      } else {
        await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: created.data.sha });
      }
      return { commitSha: created.data.sha, commits: commits + 1 };
    } catch (e) {
      // Another push moved the branch (not a fast-forward any more): plan again on the new head.
      if (status(e) !== 422 || attempt >= MAX_ATTEMPTS) throw e;
      await raceBackoff(attempt);
    }
  }
}

/** A GraphQL answer refusing the commit because the branch moved since it was read. */
export function isStaleHead(e: unknown): boolean {
  return ((e as { errors?: { type?: string }[] }).errors ?? []).some((x) => x.type === "STALE_DATA");
}

export const gitCommitProvider: pulumi.dynamic.ResourceProvider<GitCommitInputs, GitCommitOutputs> = {
  async diff(_id, olds, news) {
    // A new token alone is recorded (update without a write), so refresh and destroy use the current one.
    const keys: (keyof GitCommitInputs)[] = ["owner", "repository", "branch", "message", "apiUrl", "token"];
    const changes = keys.some((k) => olds[k] !== news[k]) || !recordsFiles(olds, news.files);
    const replaces = olds.owner !== news.owner || olds.repository !== news.repository ? ["repository"] : [];
    return { changes, replaces };
  },
  async create(inputs) {
    const result = await syncTree(inputs, inputs.files, []);
    return { id: `${inputs.owner}/${inputs.repository}/${inputs.branch}`, outs: commitOutputs(inputs, result, Object.keys(inputs.files)) };
  },
  async read(id, props) {
    const p = props as GitCommitOutputs;
    if (!p.paths?.length) return { id, props: p };
    const gh = githubClient(p);
    // One request when nothing drifted: the branch's tree by the branch's name (no ref, no commit read first).
    let tree;
    try {
      tree = (await gh.rest.git.getTree({ owner: p.owner, repo: p.repository, tree_sha: p.branch, recursive: "true" })).data;
    } catch (e) {
      if (status(e) !== 404 && status(e) !== 409) throw e;
      return { id, props: withDrift(p, new Map(p.paths.map((path) => [path, undefined]))) }; // no such branch, or an empty repository
    }
    return { id, props: withDrift(p, driftedFiles(p, blobShas(tree.tree))) };
  },
  async update(_id, olds, news) {
    if (onlyCredentialsOfCommitChanged<GitCommitInputs>(olds, news, ["token"])) {
      return { outs: commitOutputs(news, { commitSha: olds.commitSha, commits: 0 }, olds.paths) };
    }
    // A branch change starts the new branch with the full tree; the old branch keeps its files.
    const previous = olds.branch === news.branch ? olds.paths : [];
    const result = await syncTree(news, news.files, previous);
    return { outs: commitOutputs(news, result, Object.keys(news.files)) };
  },
  async delete(_id, props) {
    await syncTree({ ...props, files: {}, message: `${props.message} (removed)` }, {}, props.paths);
  },
};

/** This stack's fleet files committed to a GitHub branch, in one commit per change. */
export class GitCommitResource extends pulumi.dynamic.Resource {
  declare public readonly commitSha: pulumi.Output<string>;
  declare public readonly revision: pulumi.Output<string>;
  declare public readonly paths: pulumi.Output<string[]>;

  constructor(name: string, args: DynamicArgs<GitCommitInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("gitCommit", gitCommitProvider),
      name,
      { ...args, commitSha: undefined, revision: undefined, paths: undefined, commits: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "GitCommit",
    );
  }
}
