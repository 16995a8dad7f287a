// Where the loopback GitHub keeps a repository's Git objects: in memory (the unit tests), or in a real bare repository
// on disk (the lab, whose SSH Git server then serves the very commits the API made, at their real SHAs).
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** One entry of a tree listing, as GitHub's git/trees answers list them. */
export interface TreeEntry {
  readonly path: string;
  readonly mode: string;
  readonly type: "blob" | "tree";
  readonly sha: string;
  readonly size?: number;
}

export interface CommitObject {
  readonly tree: string;
  readonly parents: string[];
  readonly message: string;
}

/** A repository's objects and branches. Files are path -> blob SHA, flat. */
export interface GitObjects {
  putBlob(text: string): string;
  blob(sha: string): string | undefined;
  putTree(files: ReadonlyMap<string, string>): string;
  tree(sha: string): Map<string, string> | undefined;
  /** A tree as GitHub lists it: directories as `tree` entries, files as `blob`s; its top level only unless recursive. */
  treeEntries(sha: string, recursive: boolean): TreeEntry[] | undefined;
  putCommit(tree: string, parents: readonly string[], message: string): string;
  commit(sha: string): CommitObject | undefined;
  ref(branch: string): string | undefined;
  setRef(branch: string, sha: string): void;
  /** Every branch and its head. */
  branches(): [string, string][];
  /** Makes `branch` the one a clone checks out (GitHub's default branch). */
  setHead(branch: string): void;
}

const gitBlobSha = (text: string) => {
  const b = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
};
const objSha = (v: unknown) => createHash("sha1").update(JSON.stringify(v)).digest("hex");

/** Objects in memory: blobs at their Git SHAs, trees and commits at SHAs of their content. */
export class MemoryObjects implements GitObjects {
  private readonly blobs = new Map<string, string>();
  private readonly trees = new Map<string, Map<string, string>>();
  private readonly commits = new Map<string, CommitObject>();
  private readonly refs = new Map<string, string>();

  putBlob(text: string): string {
    const sha = gitBlobSha(text);
    this.blobs.set(sha, text);
    return sha;
  }
  blob(sha: string): string | undefined {
    return this.blobs.get(sha);
  }
  putTree(files: ReadonlyMap<string, string>): string {
    const sha = objSha([...files].sort());
    this.trees.set(sha, new Map(files));
    return sha;
  }
  tree(sha: string): Map<string, string> | undefined {
    const t = this.trees.get(sha);
    return t && new Map(t);
  }
  treeEntries(sha: string, recursive: boolean): TreeEntry[] | undefined {
    const files = this.trees.get(sha);
    if (!files) return undefined;
    const entries: TreeEntry[] = [];
    const dirs = new Set<string>();
    for (const [p, blob] of files) {
      const parts = p.split("/");
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
      if (recursive || parts.length === 1)
        entries.push({ path: p, mode: "100644", type: "blob", sha: blob, size: Buffer.byteLength(this.blobs.get(blob) ?? "") });
    }
    for (const d of dirs) {
      if (!recursive && d.includes("/")) continue;
      entries.push({ path: d, mode: "040000", type: "tree", sha: objSha([...files].filter(([p]) => p.startsWith(`${d}/`)).sort()) });
    }
    return entries.sort((a, b) => a.path.localeCompare(b.path));
  }
  putCommit(tree: string, parents: readonly string[], message: string): string {
    const sha = objSha({ tree, parents, message, n: this.commits.size });
    this.commits.set(sha, { tree, parents: [...parents], message });
    return sha;
  }
  commit(sha: string): CommitObject | undefined {
    return this.commits.get(sha);
  }
  ref(branch: string): string | undefined {
    return this.refs.get(branch);
  }
  setRef(branch: string, sha: string): void {
    this.refs.set(branch, sha);
  }
  branches(): [string, string][] {
    return [...this.refs];
  }
  setHead(): void {
    // a clone of memory has no HEAD to follow
  }
}

/** The identity of the commits the API makes, as GitHub's web-flow commits carry one. */
const COMMITTER = {
  GIT_AUTHOR_NAME: "GitHub",
  GIT_AUTHOR_EMAIL: "noreply@github.com",
  GIT_COMMITTER_NAME: "GitHub",
  GIT_COMMITTER_EMAIL: "noreply@github.com",
};

/** Objects in a bare repository on disk, through Git's own plumbing: what the lab's SSH Git server serves. */
export class BareRepositoryObjects implements GitObjects {
  constructor(readonly dir: string) {
    if (!fs.existsSync(path.join(dir, "HEAD"))) {
      fs.mkdirSync(dir, { recursive: true });
      this.git(["init", "--quiet", "--bare", dir], undefined, path.dirname(dir));
    }
  }

  private git(args: string[], input?: string, cwd = this.dir, env: Record<string, string> = {}): string {
    return execFileSync("git", args, { cwd, input, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, stdio: ["pipe", "pipe", "pipe"] }).toString(
      "utf8",
    );
  }

  private tryGit(args: string[]): string | undefined {
    try {
      return this.git(args);
    } catch {
      return undefined;
    }
  }

  private isType(sha: string, type: string): boolean {
    return /^[0-9a-f]{40}$/.test(sha) && this.tryGit(["cat-file", "-t", sha])?.trim() === type;
  }

  putBlob(text: string): string {
    return this.git(["hash-object", "-w", "--stdin"], text).trim();
  }
  blob(sha: string): string | undefined {
    return this.isType(sha, "blob") ? this.git(["cat-file", "blob", sha]) : undefined;
  }
  putTree(files: ReadonlyMap<string, string>): string {
    const index = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gh-index-")), "index");
    try {
      const env = { GIT_INDEX_FILE: index };
      this.git(["read-tree", "--empty"], undefined, this.dir, env);
      const lines = [...files].map(([p, sha]) => `100644 ${sha}\t${p}`).join("\n");
      if (lines) this.git(["update-index", "--index-info"], `${lines}\n`, this.dir, env);
      return this.git(["write-tree"], undefined, this.dir, env).trim();
    } finally {
      fs.rmSync(path.dirname(index), { recursive: true, force: true });
    }
  }
  tree(sha: string): Map<string, string> | undefined {
    if (!this.isType(sha, "tree")) return undefined;
    const out = new Map<string, string>();
    for (const line of this.git(["ls-tree", "-r", "-z", sha]).split("\0").filter(Boolean)) {
      const [meta, p] = line.split("\t");
      const [, type, blob] = meta.split(" ");
      if (type === "blob") out.set(p, blob);
    }
    return out;
  }
  treeEntries(sha: string, recursive: boolean): TreeEntry[] | undefined {
    if (!this.isType(sha, "tree")) return undefined;
    const args = recursive ? ["ls-tree", "-r", "-t", "-l", "-z", sha] : ["ls-tree", "-l", "-z", sha];
    return this.git(args)
      .split("\0")
      .filter(Boolean)
      .map((line) => {
        const [meta, p] = line.split("\t");
        const [mode, type, object, size] = meta.trim().split(/\s+/);
        return { path: p, mode, type: type as "blob" | "tree", sha: object, ...(type === "blob" ? { size: Number(size) } : {}) };
      });
  }
  putCommit(tree: string, parents: readonly string[], message: string): string {
    return this.git(["commit-tree", tree, ...parents.flatMap((p) => ["-p", p]), "-F", "-"], message, this.dir, COMMITTER).trim();
  }
  commit(sha: string): CommitObject | undefined {
    if (!this.isType(sha, "commit")) return undefined;
    const text = this.git(["cat-file", "commit", sha]);
    const [header, ...rest] = text.split("\n\n");
    const lines = header.split("\n");
    return {
      tree: lines.find((l) => l.startsWith("tree "))!.slice(5),
      parents: lines.filter((l) => l.startsWith("parent ")).map((l) => l.slice(7)),
      message: rest.join("\n\n").replace(/\n$/, ""),
    };
  }
  ref(branch: string): string | undefined {
    return this.tryGit(["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`])?.trim() || undefined;
  }
  setRef(branch: string, sha: string): void {
    this.git(["update-ref", `refs/heads/${branch}`, sha]);
  }
  branches(): [string, string][] {
    return this.git(["for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"])
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ") as [string, string]);
  }
  setHead(branch: string): void {
    this.git(["symbolic-ref", "HEAD", `refs/heads/${branch}`]);
  }
}
