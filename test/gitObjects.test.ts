// The loopback GitHub on real bare repositories, as the lab runs it: a GitHub Enterprise Server's API path and
// description, commits at their real SHAs, and a clone of the repository holding exactly what the API committed.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gitCommitProvider } from "../components/providers/gitCommit";
import { githubDeployKeyProvider } from "../components/providers/githubDeployKey";
import { githubRepositoryProvider } from "../components/providers/githubRepository";
import { tenantSeedProvider } from "../components/providers/tenantSeed";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";
import { BareRepositoryObjects, MemoryObjects } from "./gitObjects";

describe("the loopback GitHub on bare repositories (a GitHub Enterprise Server's API)", () => {
  let root: string;
  let gh: FakeGitHub;
  const keys: Record<string, string[]> = {};
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "gh-bare-"));
    gh = await startFakeGitHub({
      description: "ghes-3.19",
      basePath: "/api/v3",
      host: "github.example.com",
      objects: (owner, name) => new BareRepositoryObjects(path.join(root, owner, name)),
      keysChanged: (owner, name, list) => (keys[`${owner}/${name}`] = list.map((k) => `${k.read_only ? "ro" : "rw"} ${k.key}`)),
    });
  });
  after(async () => {
    await gh.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const clone = (repo: string, branch: string) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gh-clone-"));
    execFileSync("git", ["clone", "--quiet", "--branch", branch, path.join(root, repo), dir], { stdio: "pipe" });
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: dir }).toString().trim();
    const files = execFileSync("git", ["ls-files"], { cwd: dir }).toString().trim().split("\n");
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    return { dir, head, files, read };
  };

  it("serves the API under /api/v3 and GraphQL at /api/graphql, and a clone holds what the API committed, at the same SHAs", async () => {
    const common = { owner: "my-org", token: "t", apiUrl: gh.url };
    assert.match(gh.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    await githubRepositoryProvider.create({ ...common, name: "fleet", visibility: "private", description: "Fleet repository: Flux multi-tenancy layout" });
    const commit = (
      await gitCommitProvider.create({
        ...common,
        repository: "fleet",
        branch: "main",
        files: { "clusters/lab/a.yaml": "a: 1\n", "tenants/base/t/b.yaml": "b: 2\n" },
        message: "m",
        overwriteShared: false,
      })
    ).outs!;
    const fleet = clone("my-org/fleet", "main");
    assert.equal(fleet.head, commit.commitSha, "the API's commit SHA is Git's");
    assert.deepEqual(fleet.files.sort(), ["README.md", "clusters/lab/a.yaml", "tenants/base/t/b.yaml"]);
    assert.equal(fleet.read("tenants/base/t/b.yaml"), "b: 2\n");

    await githubRepositoryProvider.create({ ...common, name: "team-a", visibility: "private", description: "Flux tenant team-a" });
    const seed = (await tenantSeedProvider.create({ ...common, repository: "team-a", branch: "main", files: { "lab/c.yaml": "c: 3\n" }, message: "seed" }))
      .outs!;
    assert.equal(seed.seeded, true);
    const tenant = clone("my-org/team-a", "main");
    assert.equal(tenant.head, seed.commitSha, "the GraphQL commit's oid is Git's");
    assert.equal(tenant.read("lab/c.yaml"), "c: 3\n");
    assert.ok(gh.requests.includes("POST /graphql (mutation)"));
  });

  it("tells the SSH server the keys the API registered and deleted", async () => {
    const key = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBDeployKeyOfTheLabOnly";
    const created = await githubDeployKeyProvider.create({
      owner: "my-org",
      repository: "fleet",
      title: "flux-lab",
      key,
      readOnly: true,
      token: "t",
      apiUrl: gh.url,
    });
    assert.deepEqual(keys["my-org/fleet"], [`ro ${key}`]);
    await githubDeployKeyProvider.delete!(created.id, created.outs!);
    assert.deepEqual(keys["my-org/fleet"], []);
  });

  it("the two object stores agree on what they hold", () => {
    const bare = new BareRepositoryObjects(path.join(root, "x", "y"));
    for (const store of [new MemoryObjects(), bare]) {
      const blob = store.putBlob("hello\n");
      assert.equal(blob, "ce013625030ba8dba906f756967f9e9ca394464a", "a blob is at its Git SHA in both");
      const tree = store.putTree(new Map([["a/b.txt", blob]]));
      const c = store.putCommit(tree, [], "first");
      store.setRef("main", c);
      assert.deepEqual(store.commit(c), { tree, parents: [], message: "first" });
      assert.deepEqual([...store.tree(tree)!], [["a/b.txt", blob]]);
      assert.deepEqual(
        store.treeEntries(tree, true)!.map((e) => `${e.type} ${e.path}`),
        ["tree a", "blob a/b.txt"],
      );
      assert.deepEqual(
        store.treeEntries(tree, false)!.map((e) => `${e.type} ${e.path}`),
        ["tree a"],
      );
      assert.deepEqual(store.branches(), [["main", c]]);
      assert.equal(store.blob("0".repeat(40)), undefined);
    }
  });
});
