// Dynamic provider pushing this stack's fleet files to any Git server over SSH, with the git CLI: one commit per up, never forced.
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { commitWrites, FLEET_ROOTS, planFleetCommit, referenceCandidates } from "../../manifests/fleetPlan";
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
import { CommandError, type DynamicArgs, run } from "./exec";
import { byReference } from "./reference";

export interface GitPushInputs {
  /** Repository URL (`ssh://...`; a local path or `file://` URL works the same). */
  readonly url: string;
  readonly branch: string;
  readonly files: Record<string, string>;
  /** Commit message subject. */
  readonly message: string;
  /** Write shared files even where another stack reads a different version (a deliberate change). */
  readonly overwriteShared: boolean;
  /** OpenSSH private key allowed to push; secret. */
  readonly sshKey: string;
  /** known_hosts lines of the host (from config; never scanned). */
  readonly knownHosts: string;
}

export interface GitPushOutputs extends Omit<GitPushInputs, "files"> {
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

/** Who the program commits as, unless the environment names someone (GIT_AUTHOR_NAME and friends). */
const IDENTITY = { GIT_AUTHOR_NAME: "flux-multi-tenancy", GIT_AUTHOR_EMAIL: "flux-multi-tenancy@users.noreply.invalid" };

/** The git CLI against one remote, authenticated with the given key and host keys only, in a private temporary repository. */
export interface Git {
  (args: readonly string[], input?: string): Promise<string>;
  readonly url: string;
}

export async function withGit<T>(remote: Pick<GitPushInputs, "url" | "sshKey" | "knownHosts">, fn: (git: Git) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "fmt-git-"));
  try {
    const key = path.join(dir, "identity");
    const knownHosts = path.join(dir, "known_hosts");
    await fs.writeFile(key, remote.sshKey.endsWith("\n") ? remote.sshKey : `${remote.sshKey}\n`, { mode: 0o600 });
    await fs.writeFile(knownHosts, remote.knownHosts, { mode: 0o600 });
    const repo = path.join(dir, "repo");
    const ssh = `ssh -F /dev/null -i ${key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
    const env = {
      GIT_SSH_COMMAND: ssh,
      GIT_TERMINAL_PROMPT: "0",
      GIT_COMMITTER_NAME: process.env.GIT_COMMITTER_NAME ?? IDENTITY.GIT_AUTHOR_NAME,
      GIT_COMMITTER_EMAIL: process.env.GIT_COMMITTER_EMAIL ?? IDENTITY.GIT_AUTHOR_EMAIL,
      GIT_AUTHOR_NAME: process.env.GIT_AUTHOR_NAME ?? IDENTITY.GIT_AUTHOR_NAME,
      GIT_AUTHOR_EMAIL: process.env.GIT_AUTHOR_EMAIL ?? IDENTITY.GIT_AUTHOR_EMAIL,
    };
    await run("git", ["init", "-q", repo]);
    const git = ((args: readonly string[], input?: string) =>
      run("env", [...Object.entries(env).map(([k, v]) => `${k}=${v}`), "git", "-C", repo, ...args], input).then((r) => r.stdout)) as Git;
    Object.defineProperty(git, "url", { value: remote.url });
    return await fn(git);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The remote's head of `branch`, or undefined when it has none; a failing remote (host key, access) throws git's words. */
async function remoteHead(git: Git, branch: string): Promise<string | undefined> {
  const out = await git(["ls-remote", git.url, `refs/heads/${branch}`]);
  return out.split(/\s+/)[0] || undefined;
}

/** The remote's default branch (its HEAD), when it has commits. */
async function remoteDefaultBranch(git: Git): Promise<string | undefined> {
  const out = await git(["ls-remote", "--symref", git.url, "HEAD"]);
  return /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(out)?.[1];
}

/** Fetches `ref` (shallow: only its tree is needed) and returns its commit. */
async function fetchRef(git: Git, ref: string): Promise<string> {
  await git(["fetch", "-q", "--depth=1", "--no-tags", git.url, `+${ref}:refs/fleet/head`]);
  return (await git(["rev-parse", "refs/fleet/head"])).trim();
}

/** Whether a push failed only because the branch moved under it (someone else pushed): worth planning again. */
function lostRace(e: unknown): boolean {
  return e instanceof CommandError && /\[rejected\]|non-fast-forward|fetch first|failed to update ref|cannot lock ref/.test(e.stderr);
}

/** Path -> blob SHA of the fetched head's files (refs/fleet/head), under `roots` (all by default). */
async function fetchedBlobs(git: Git, roots: readonly string[] = [""]): Promise<Map<string, string>> {
  const shas = new Map<string, string>();
  for (const line of (await git(["ls-tree", "-r", "refs/fleet/head"])).split("\n")) {
    const m = /^\d+ blob ([0-9a-f]+)\t(.+)$/.exec(line);
    if (m && roots.some((r) => m[2].startsWith(r))) shas.set(m[2], m[1]);
  }
  return shas;
}

/**
 * Brings the branch to `desired` in one commit (none when nothing differs), planned as on GitHub:
 * this stack's files written or deleted, shared files another stack reads left alone. A push that
 * loses a race is planned again on the new head; nothing is ever force-pushed.
 */
export async function pushTree(inputs: GitPushInputs, desired: Record<string, string>, previous: readonly string[]): Promise<SyncResult> {
  return withGit(inputs, async (git) => {
    for (let attempt = 1; ; attempt++) {
      let head = await remoteHead(git, inputs.branch);
      const branchExists = head !== undefined;
      if (!branchExists) {
        // A new branch starts from the default branch, when the repository has one.
        const base = await remoteDefaultBranch(git);
        head = base ? await remoteHead(git, base) : undefined;
      }
      let current = new Map<string, string>();
      const texts = new Map<string, string>();
      if (head !== undefined) {
        await fetchRef(git, branchExists ? `refs/heads/${inputs.branch}` : head);
        current = await fetchedBlobs(git, FLEET_ROOTS);
        const ours = new Set([...Object.keys(desired), ...previous]);
        for (const p of referenceCandidates(current.keys(), ours)) texts.set(p, await git(["cat-file", "blob", current.get(p)!]));
      }
      const plan = planFleetCommit({ desired, previous, current, texts });
      const writes = commitWrites(plan, desired, inputs.overwriteShared);
      const count = Object.keys(writes).length + plan.deletes.length;
      if (count === 0) {
        if (head === undefined) return { commitSha: "", commits: 0 };
        if (!branchExists) await git(["push", "-q", git.url, `${head}:refs/heads/${inputs.branch}`]);
        return { commitSha: head, commits: 0 };
      }
      // The new tree: the head's index, this plan's blobs added and its deletions removed.
      if (head !== undefined) await git(["read-tree", "refs/fleet/head"]);
      else await git(["read-tree", "--empty"]);
      for (const [p, text] of Object.entries(writes)) {
        const blob = (await git(["hash-object", "-w", "--stdin"], text)).trim();
        await git(["update-index", "--add", "--cacheinfo", `100644,${blob},${p}`]);
      }
      if (plan.deletes.length > 0) await git(["update-index", "--force-remove", ...plan.deletes]);
      const tree = (await git(["write-tree"])).trim();
      const commit = (await git(["commit-tree", tree, ...(head ? ["-p", head] : []), "-m", commitMessage(inputs.message, count)])).trim();
      try {
        await git(["push", "-q", git.url, `${commit}:refs/heads/${inputs.branch}`]);
        return { commitSha: commit, commits: 1 };
      } catch (e) {
        if (!lostRace(e) || attempt >= MAX_ATTEMPTS) throw e;
        await raceBackoff(attempt);
      }
    }
  });
}

/** Whether commit `head` contains commit `base` in the remote's history of `branch` (for waits that see a later commit). */
export async function gitContains(remote: Pick<GitPushInputs, "url" | "sshKey" | "knownHosts">, branch: string, base: string, head: string): Promise<boolean> {
  try {
    return await withGit(remote, async (git) => {
      await git(["fetch", "-q", "--no-tags", git.url, `+refs/heads/${branch}:refs/fleet/head`]);
      await git(["merge-base", "--is-ancestor", base, head]);
      return true;
    });
  } catch {
    return false; // unknown commits (history rewritten elsewhere): keep waiting for the exact revision
  }
}

export const gitPushProvider: pulumi.dynamic.ResourceProvider<GitPushInputs, GitPushOutputs> = {
  async diff(_id, olds, news) {
    // A new key or host key alone is recorded (update without a push), so refresh and destroy use it.
    const keys: (keyof GitPushInputs)[] = ["url", "branch", "message", "sshKey", "knownHosts"];
    const changes = keys.some((k) => olds[k] !== news[k]) || !recordsFiles(olds, news.files);
    return { changes, replaces: olds.url !== news.url ? ["url"] : [] };
  },
  async create(inputs) {
    const result = await pushTree(inputs, inputs.files, []);
    return { id: `${inputs.url}#${inputs.branch}`, outs: commitOutputs(inputs, result, Object.keys(inputs.files)) };
  },
  async read(id, props) {
    const p = props as GitPushOutputs;
    if (!p.paths?.length) return { id, props: p };
    const drift = await withGit(p, async (git) => {
      // No branch: every file of this stack is gone from it.
      let shas = new Map<string, string>();
      if ((await remoteHead(git, p.branch)) !== undefined) {
        await fetchRef(git, `refs/heads/${p.branch}`);
        shas = await fetchedBlobs(git);
      }
      return driftedFiles(p, shas);
    });
    return { id, props: withDrift(p, drift) };
  },
  async update(_id, olds, news) {
    if (onlyCredentialsOfCommitChanged<GitPushInputs>(olds, news, ["sshKey", "knownHosts"])) {
      return { outs: commitOutputs(news, { commitSha: olds.commitSha, commits: 0 }, olds.paths) };
    }
    // A branch change starts the new branch with the full tree; the old branch keeps its files.
    const previous = olds.branch === news.branch ? olds.paths : [];
    const result = await pushTree(news, news.files, previous);
    return { outs: commitOutputs(news, result, Object.keys(news.files)) };
  },
  async delete(_id, props) {
    await pushTree({ ...props, files: {}, message: `${props.message} (removed)` }, {}, props.paths);
  },
};

/** This stack's fleet files on a Git server over SSH, one commit per change. */
export class GitPushResource extends pulumi.dynamic.Resource {
  declare public readonly commitSha: pulumi.Output<string>;
  declare public readonly revision: pulumi.Output<string>;
  declare public readonly paths: pulumi.Output<string[]>;

  constructor(name: string, args: DynamicArgs<GitPushInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("gitPush", gitPushProvider),
      name,
      { ...args, commitSha: undefined, revision: undefined, paths: undefined, commits: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["sshKey"] }),
      "flux-multi-tenancy",
      "GitPush",
    );
  }
}
