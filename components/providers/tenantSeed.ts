// Dynamic provider seeding a tenant repository once with the starter layout. Its rule is the fleet commit's opposite:
// the fleet commit converges this stack's files on every up; a seed writes only into a repository that holds nothing
// but the first commit GitHub made, never over a path that exists, and never again (the repository is the tenant's).
import * as pulumi from "@pulumi/pulumi";
import type { Octokit } from "@octokit/rest" with { "resolution-mode": "import" };
import { commitMessage, MAX_ATTEMPTS, raceBackoff } from "./commits";
import type { DynamicArgs } from "./exec";
import { accessibleRepository, blobShas, isStaleHead } from "./gitCommit";
import { githubClient, status } from "./github";
import { byReference } from "./reference";

export interface TenantSeedInputs {
  readonly owner: string;
  readonly repository: string;
  /** The branch Flux syncs; started from the first commit when it is not the default branch. */
  readonly branch: string;
  /** The starter layout; none for a repository the stack adopts (then only access is checked). */
  readonly files: Record<string, string>;
  /** Commit message subject. */
  readonly message: string;
  /** GitHub token (github:token); "" for GITHUB_TOKEN, as githubToken says. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

export interface TenantSeedOutputs extends TenantSeedInputs {
  /** Whether this seed wrote the starter layout. */
  readonly seeded: boolean;
  /** The seed commit, or "" when nothing was written. */
  readonly commitSha: string;
  /** Why the repository was (not) seeded, in words. */
  readonly reason: string;
}

/** What GitHub's auto_init commits: one root commit holding a README. (An array: Pulumi's closure serialization does not carry a Set.) */
const FIRST_COMMIT_FILES = ["README.md"];

/** The repository's state as the seed sees it: empty, untouched since GitHub's first commit, or someone's work. */
type Found = { kind: "empty" } | { kind: "first-commit"; branch: string; head: string; paths: Set<string> } | { kind: "used"; why: string };

async function inspect(gh: Octokit, owner: string, repo: string): Promise<Found> {
  let refs;
  try {
    refs = (await gh.rest.git.listMatchingRefs({ owner, repo, ref: "heads" })).data;
  } catch (e) {
    if (status(e) === 409) return { kind: "empty" }; // "Git Repository is empty."
    throw e;
  }
  if (refs.length === 0) return { kind: "empty" };
  if (refs.length > 1) return { kind: "used", why: `it has ${refs.length} branches` };
  const head = refs[0].object.sha;
  const commit = (await gh.rest.git.getCommit({ owner, repo, commit_sha: head })).data;
  if (commit.parents.length > 0) return { kind: "used", why: "its branch has commits after the first" };
  const tree = (await gh.rest.git.getTree({ owner, repo, tree_sha: commit.tree.sha, recursive: "true" })).data;
  const paths = new Set(blobShas(tree.tree).keys());
  const other = [...paths].filter((p) => !FIRST_COMMIT_FILES.includes(p));
  if (other.length > 0) return { kind: "used", why: `its first commit holds ${other.slice(0, 3).join(", ")}${other.length > 3 ? ", ..." : ""}` };
  return { kind: "first-commit", branch: refs[0].ref.replace(/^refs\/heads\//, ""), head, paths };
}

/** Adds `files` to `branch` at `head` in one GraphQL commit; undefined when the branch moved meanwhile. */
async function commitOnBranch(gh: Octokit, inputs: TenantSeedInputs, head: string, files: [string, string][]): Promise<string | undefined> {
  try {
    const result = await gh.graphql<{ createCommitOnBranch: { commit: { oid: string } } }>(
      `mutation ($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid } } }`,
      {
        input: {
          branch: { repositoryNameWithOwner: `${inputs.owner}/${inputs.repository}`, branchName: inputs.branch },
          message: { headline: commitMessage(inputs.message, files.length) },
          expectedHeadOid: head,
          fileChanges: { additions: files.map(([path, text]) => ({ path, contents: Buffer.from(text, "utf8").toString("base64") })) },
        },
      },
    );
    return result.createCommitOnBranch.commit.oid;
  } catch (e) {
    if (isStaleHead(e)) return undefined;
    throw e;
  }
}

/**
 * Seeds the repository when nothing but GitHub's first commit is there (or nothing at all): every file of the
 * layout whose path is absent, in one commit (one GraphQL request). A repository with anything more is the
 * tenant's, and is left as it is; so is one a tenant pushes to while the seed is being made.
 */
async function seed(inputs: TenantSeedInputs): Promise<Pick<TenantSeedOutputs, "seeded" | "commitSha" | "reason">> {
  const gh = githubClient(inputs);
  const { owner, repository: repo } = inputs;
  await accessibleRepository(gh, owner, repo);
  if (Object.keys(inputs.files).length === 0) return { seeded: false, commitSha: "", reason: "an adopted repository: nothing to seed" };
  for (let attempt = 1; ; attempt++) {
    const found = await inspect(gh, owner, repo);
    if (found.kind === "used") {
      return { seeded: false, commitSha: "", reason: `${owner}/${repo} is not seeded: ${found.why}, so it is the tenant's` };
    }
    let head: string;
    let paths: Set<string>;
    const files = Object.entries(inputs.files).sort(([a], [b]) => a.localeCompare(b));
    if (found.kind === "empty") {
      // An empty repository takes no commit through GraphQL until its branch exists: the first file starts it.
      const [path, text] = files.shift()!;
      const put = await gh.rest.repos.createOrUpdateFileContents({
        owner,
        repo,
        path,
        branch: inputs.branch,
        message: `${inputs.message} (initialise)`,
        content: Buffer.from(text, "utf8").toString("base64"),
      });
      head = put.data.commit.sha!;
      paths = new Set([path]);
    } else {
      head = found.head;
      paths = found.paths;
      if (found.branch !== inputs.branch) await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${inputs.branch}`, sha: head });
    }
    const absent = files.filter(([p]) => !paths.has(p));
    if (absent.length === 0) return { seeded: true, commitSha: head, reason: "seeded with the starter layout" };
    const sha = await commitOnBranch(gh, inputs, head, absent);
    if (sha) return { seeded: true, commitSha: sha, reason: "seeded with the starter layout" };
    // Someone pushed between the read and the commit: look again (the repository is likely the tenant's now).
    if (attempt >= MAX_ATTEMPTS) throw new Error(`${owner}/${repo}: the branch ${inputs.branch} kept moving while it was being seeded`);
    await raceBackoff(attempt);
  }
}

/** What makes a seed another one: another repository or branch is judged (and perhaps seeded) afresh. */
const IDENTITY: (keyof TenantSeedInputs)[] = ["owner", "repository", "branch"];

export const tenantSeedProvider: pulumi.dynamic.ResourceProvider<TenantSeedInputs, TenantSeedOutputs> = {
  async diff(_id, olds, news) {
    // Seeded once: a new starter layout, message or token changes nothing in a repository that is the tenant's now.
    const replaces = IDENTITY.filter((k) => String(olds[k]).toLowerCase() !== String(news[k]).toLowerCase());
    return { changes: replaces.length > 0, replaces };
  },
  async create(inputs) {
    return { id: `${inputs.owner}/${inputs.repository}/${inputs.branch}`, outs: { ...inputs, ...(await seed(inputs)) } };
  },
  // Nothing to read (what the tenant does there is theirs), and nothing to delete: the repository outlives the stack.
};

/** The starter layout committed once to a new tenant repository. */
export class TenantSeedResource extends pulumi.dynamic.Resource {
  declare public readonly seeded: pulumi.Output<boolean>;
  declare public readonly reason: pulumi.Output<string>;

  constructor(name: string, args: DynamicArgs<TenantSeedInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("tenantSeed", tenantSeedProvider),
      name,
      { ...args, seeded: undefined, commitSha: undefined, reason: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "TenantSeed",
    );
  }
}
