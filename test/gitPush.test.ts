// The SSH push provider with the real git CLI against bare repositories on disk: one commit per up, shared files guarded, races re-planned.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gitContains, gitPushProvider, type GitPushInputs, type GitPushOutputs } from "../components/providers/gitPush";
import type { FileTree } from "../manifests";
import { gitBlobSha } from "../manifests/fleetPlan";
import { render, stackConfig } from "./helpers";

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" },
  }).trim();
}

/** A bare repository with one commit holding README.md on `main` (or none at all). */
function bareRepo(seed = true): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "gitpush-"));
  const bare = path.join(root, "fleet.git");
  git(root, "init", "-q", "--bare", "-b", "main", bare);
  if (seed) {
    const work = path.join(root, "work");
    git(root, "init", "-q", "-b", "main", work);
    fs.writeFileSync(path.join(work, "README.md"), "# fleet\n");
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", "first");
    git(work, "push", "-q", bare, "main");
  }
  return bare;
}

/** The files of a branch as path -> text. */
function files(bare: string, branch = "main"): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of git(bare, "ls-tree", "-r", "--name-only", branch).split("\n").filter(Boolean)) out.set(p, git(bare, "show", `${branch}:${p}`) + "\n");
  return out;
}

const commits = (bare: string, branch = "main") => Number(git(bare, "rev-list", "--count", branch));

function inputs(bare: string, tree: FileTree, extra: Partial<GitPushInputs> = {}): GitPushInputs {
  return {
    url: `file://${bare}`,
    branch: "main",
    files: { ...tree },
    message: "flux-multi-tenancy: test",
    overwriteShared: false,
    sshKey: "",
    knownHosts: "",
    ...extra,
  };
}

async function up(bare: string, tree: FileTree, previous?: GitPushOutputs, extra: Partial<GitPushInputs> = {}): Promise<GitPushOutputs> {
  const news = inputs(bare, tree, extra);
  if (!previous) return (await gitPushProvider.create(news)).outs!;
  return (await gitPushProvider.update!("id", previous, news)).outs!;
}

describe("SSH Git push provider (git CLI, bare repositories)", () => {
  let staging: FileTree;
  let production: FileTree;
  let bare: string;
  before(async () => {
    staging = render(await stackConfig("staging"));
    production = render(await stackConfig("production"));
  });
  beforeEach(() => (bare = bareRepo()));
  afterEach(() => fs.rmSync(path.dirname(bare), { recursive: true, force: true }));

  it("pushes every file of the first up in one commit, leaving other files alone", async () => {
    const out = await up(bare, staging);
    assert.equal(out.commits, 1);
    assert.equal(commits(bare), 2);
    assert.equal(out.revision, `main@sha1:${git(bare, "rev-parse", "main")}`);
    assert.deepEqual(out.paths, Object.keys(staging).sort());
    const f = files(bare);
    for (const [p, text] of Object.entries(staging)) assert.equal(f.get(p)?.trimEnd(), text.trimEnd(), p);
    assert.equal(f.get("README.md"), "# fleet\n");
  });

  it("an up with nothing changed pushes nothing", async () => {
    const first = await up(bare, staging);
    const again = await up(bare, staging, first);
    assert.equal(again.commits, 0);
    assert.equal(again.commitSha, first.commitSha);
    assert.equal(commits(bare), 2);
  });

  it("a new key or host key alone is an update that records it, with no fetch or push", async () => {
    const first = await up(bare, staging);
    const rotated = inputs(bare, staging, { sshKey: "new-key", knownHosts: "[127.0.0.1]:2222 ssh-ed25519 AAAA" });
    assert.deepEqual(await gitPushProvider.diff!("id", first, rotated), { changes: true, replaces: [] });
    // The remote is gone: any git command against it would fail.
    fs.renameSync(bare, `${bare}.moved`);
    try {
      const out = (await gitPushProvider.update!("id", first, rotated)).outs!;
      assert.equal(out.sshKey, "new-key");
      assert.equal(out.knownHosts, rotated.knownHosts);
      assert.equal(out.commitSha, first.commitSha);
      assert.equal(out.commits, 0);
    } finally {
      fs.renameSync(`${bare}.moved`, bare);
    }
  });

  it("an empty repository gets its branch with the first commit", async () => {
    const empty = bareRepo(false);
    try {
      const out = await up(empty, staging);
      assert.equal(out.commits, 1);
      assert.equal(commits(empty), 1);
    } finally {
      fs.rmSync(path.dirname(empty), { recursive: true, force: true });
    }
  });

  it("adding a tenant is one commit touching only its files and the overlay list; removing it takes them out again", async () => {
    const first = await up(bare, staging);
    const withTeam = render(await stackConfig("staging", (raw) => (raw.tenants = [...(raw.tenants as object[]), { name: "team-b" }])));
    const added = await up(bare, withTeam, first);
    assert.equal(added.commits, 1);
    const changed = git(bare, "diff", "--name-only", first.commitSha, added.commitSha).split("\n").sort();
    assert.deepEqual(changed, [
      "tenants/base/team-b/kustomization.yaml",
      "tenants/base/team-b/rbac.yaml",
      "tenants/base/team-b/sync.yaml",
      "tenants/staging/kustomization.yaml",
      "tenants/staging/team-b-namespace.yaml",
      "tenants/staging/team-b-patch.yaml",
      "tenants/staging/team-b-receiver.yaml",
    ]);
    const removed = await up(bare, staging, added);
    assert.equal(git(bare, "diff", "--name-only", first.commitSha, removed.commitSha), "");
  });

  it("two stacks share one repository: each its own files, shared ones once, and destroying one keeps what the other reads", async () => {
    const s = await up(bare, staging);
    const p = await up(bare, production);
    assert.equal((await up(bare, staging, s)).commits, 0, "no flip-flop");
    assert.equal((await up(bare, production, p)).commits, 0);
    await gitPushProvider.delete!("id", s);
    const f = files(bare);
    assert.ok(![...f.keys()].some((k) => k.startsWith("clusters/staging/") || k.startsWith("tenants/staging/")), "staging's own files are gone");
    for (const k of Object.keys(production)) assert.ok(f.has(k), `production still has ${k}`);
    await gitPushProvider.delete!("id", p);
    assert.deepEqual([...files(bare).keys()], ["README.md"]);
  });

  it("refuses to change a shared file another stack reads differently, unless told to", async () => {
    await up(bare, production);
    const changed = render(await stackConfig("staging", (raw) => (raw.tenants = [{ name: "dev-team", namespace: "apps", branch: "other" }])));
    await assert.rejects(
      up(bare, changed),
      /^Error: these shared fleet files differ from what another stack committed and still reads:\n {2}tenants\/base\/dev-team\/sync\.yaml/,
    );
    const forced = await up(bare, changed, undefined, { overwriteShared: true });
    assert.equal(forced.commits, 1);
  });

  it("two stacks pushing at once both land: the loser plans again on the new head, nothing is forced", async () => {
    const [s, p] = await Promise.all([up(bare, staging), up(bare, production)]);
    assert.equal(s.commits + p.commits, 2);
    const f = files(bare);
    for (const k of [...Object.keys(staging), ...Object.keys(production)]) assert.ok(f.has(k), k);
    assert.equal(commits(bare), 3, "history is linear: README, then one commit per stack");
  });

  it("knows whether a later commit contains an earlier one", async () => {
    const first = await up(bare, staging);
    const second = await up(bare, production);
    const remote = { url: `file://${bare}`, sshKey: "", knownHosts: "" };
    assert.equal(await gitContains(remote, "main", first.commitSha, second.commitSha), true);
    assert.equal(await gitContains(remote, "main", second.commitSha, first.commitSha), false);
    assert.equal(await gitContains(remote, "main", "0".repeat(40), second.commitSha), false);
  });

  it("refresh reads back this stack's files as the branch holds them; the next up writes them again", async () => {
    const first = await up(bare, staging);
    const work = path.join(path.dirname(bare), "hand");
    git(path.dirname(bare), "clone", "-q", bare, work);
    fs.writeFileSync(path.join(work, "clusters/staging/tenants.yaml"), "edited by hand\n");
    git(work, "rm", "-q", "tenants/staging/kustomization.yaml");
    git(work, "commit", "-qam", "by hand");
    git(work, "push", "-q", "origin", "main");
    const refreshed = (await gitPushProvider.read!("id", first)).props as GitPushOutputs;
    assert.equal(refreshed.fileShas["clusters/staging/tenants.yaml"], gitBlobSha("edited by hand\n"));
    assert.ok(!("tenants/staging/kustomization.yaml" in refreshed.fileShas));
    assert.equal(refreshed.files, undefined, "the state keeps the files' SHAs, not their texts");
    assert.equal((await gitPushProvider.diff!("id", refreshed, inputs(bare, staging))).changes, true);
    await gitPushProvider.update!("id", refreshed, inputs(bare, staging));
    const f = files(bare);
    assert.equal(f.get("clusters/staging/tenants.yaml")?.trimEnd(), staging["clusters/staging/tenants.yaml"].trimEnd());
    assert.ok(f.has("tenants/staging/kustomization.yaml"));
  });
});
