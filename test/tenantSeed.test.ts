// The tenant seed against a GitHub API on loopback: a starter layout written once, only into a repository that holds
// nothing but GitHub's first commit, never over a path that exists, never again.
import { strict as assert } from "assert";
import { tenantSeedProvider, type TenantSeedInputs, type TenantSeedOutputs } from "../components/providers/tenantSeed";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";

const OWNER = "my-org";
const STARTER = { "base/kustomization.yaml": "resources: [a.yaml]\n", "base/a.yaml": "a: 1\n", "staging/kustomization.yaml": "resources: [../base]\n" };

describe("tenant seed", () => {
  let gh: FakeGitHub;
  beforeEach(async () => (gh = await startFakeGitHub()));
  afterEach(() => gh.close());

  const inputs = (extra: Partial<TenantSeedInputs> = {}): TenantSeedInputs => ({
    owner: OWNER,
    repository: "dev-team",
    branch: "main",
    files: STARTER,
    message: "flux-multi-tenancy: starter layout for dev-team",
    token: "t",
    apiUrl: gh.url,
    ...extra,
  });
  const seed = async (extra: Partial<TenantSeedInputs> = {}) => (await tenantSeedProvider.create(inputs(extra))).outs as TenantSeedOutputs;

  it("seeds a repository holding only GitHub's first commit in one write: every starter file in one GraphQL commit", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    const writes = gh.writes().length;
    const out = await seed();
    assert.equal(out.seeded, true);
    assert.deepEqual(gh.writes().slice(writes), ["POST /graphql (mutation)"]);
    assert.deepEqual(Object.fromEntries(gh.files(OWNER, "dev-team", "main")), { "README.md": "# dev-team\n", ...STARTER });
    assert.match(out.commitSha, /^[0-9a-f]{40}$/, "the seed commit is recorded");
  });

  it("a tenant's repository is seeded once: re-adding the tenant, or an up after a destroy, leaves its commits and deletions alone", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    await seed();
    // The tenant's own work: a file changed, a starter file deleted, a file of its own.
    gh.pushOutOfBand(OWNER, "dev-team", "main", { "base/a.yaml": "a: tenant\n", "staging/kustomization.yaml": null, "apps/x.yaml": "x: 1\n" });
    const before = Object.fromEntries(gh.files(OWNER, "dev-team", "main"));
    const writes = gh.writes().length;
    // The tenant removed and added back, or the stack destroyed and brought up again: a new seed resource, the same repository.
    const again = await seed();
    assert.equal(again.seeded, false);
    assert.equal(again.reason, "my-org/dev-team is not seeded: its branch has commits after the first, so it is the tenant's");
    assert.deepEqual(gh.writes().slice(writes), [], "no write at all");
    assert.deepEqual(Object.fromEntries(gh.files(OWNER, "dev-team", "main")), before, "nothing overwritten, nothing brought back");
  });

  it("an existing path is never written: a starter file already in GitHub's first commit keeps its text", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    const out = await seed({ files: { ...STARTER, "README.md": "# starter readme\n" } });
    assert.equal(out.seeded, true);
    assert.equal(gh.files(OWNER, "dev-team", "main").get("README.md"), "# dev-team\n");
  });

  it("a repository with anything more than GitHub's first commit is the tenant's: another branch, or a first commit of its own", async () => {
    gh.createRepo(OWNER, "dev-team", { files: { "apps/x.yaml": "x: 1\n" } });
    assert.match((await seed()).reason, /is not seeded: its first commit holds apps\/x\.yaml, so it is the tenant's$/);
    gh.createRepo(OWNER, "two", { autoInit: true });
    const auth = { authorization: "token t" };
    const main = (await (await fetch(`${gh.url}/repos/${OWNER}/two/git/ref/heads/main`, { headers: auth })).json()) as { object: { sha: string } };
    await fetch(`${gh.url}/repos/${OWNER}/two/git/refs`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ ref: "refs/heads/dev", sha: main.object.sha }),
    });
    assert.match((await seed({ repository: "two" })).reason, /is not seeded: it has 2 branches/);
  });

  it("a tenant pushing while the seed is made wins: the seed looks again and stands back", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    gh.raceOnce(OWNER, "dev-team", "main");
    const out = await seed();
    assert.equal(out.seeded, false);
    assert.deepEqual([...gh.files(OWNER, "dev-team", "main").keys()].sort(), ["OTHER.md", "README.md"]);
  });

  it("an empty repository is seeded: the first file starts the branch, the rest follow in one commit", async () => {
    gh.createRepo(OWNER, "dev-team");
    const out = await seed();
    assert.equal(out.seeded, true);
    assert.deepEqual(Object.fromEntries(gh.files(OWNER, "dev-team", "main")), STARTER);
    assert.equal(gh.commitsOn(OWNER, "dev-team", "main"), 2);
  });

  it("a branch other than GitHub's first one starts from the first commit", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    assert.equal((await seed({ branch: "flux" })).seeded, true);
    assert.deepEqual([...gh.files(OWNER, "dev-team", "flux").keys()].sort(), ["README.md", ...Object.keys(STARTER)].sort());
    assert.deepEqual([...gh.files(OWNER, "dev-team", "main").keys()], ["README.md"]);
  });

  it("an adopted repository is only checked: nothing written, and a token without admin rights is told what it needs", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    const writes = gh.writes().length;
    assert.equal((await seed({ files: {} })).seeded, false);
    assert.deepEqual(gh.writes().slice(writes), []);
    gh.createRepo(OWNER, "locked", { autoInit: true, admin: false });
    await assert.rejects(seed({ repository: "locked", files: {} }), /the GitHub token has no admin rights on my-org\/locked/);
  });

  it("never changes once made: a new layout, message or token is no change; another repository or branch is another seed", async () => {
    gh.createRepo(OWNER, "dev-team", { autoInit: true });
    const out = await seed();
    assert.deepEqual(await tenantSeedProvider.diff!("id", out, inputs({ files: { "x.yaml": "x: 2\n" }, message: "m", token: "t2" })), {
      changes: false,
      replaces: [],
    });
    assert.deepEqual(await tenantSeedProvider.diff!("id", out, inputs({ repository: "other" })), { changes: true, replaces: ["repository"] });
    assert.deepEqual(await tenantSeedProvider.diff!("id", out, inputs({ branch: "flux" })), { changes: true, replaces: ["branch"] });
    assert.equal(tenantSeedProvider.read, undefined, "what the tenant does there is not read back");
    assert.equal(tenantSeedProvider.delete, undefined, "the repository outlives the stack");
  });

  it("a seed recorded by an earlier version (a GitCommit in seed mode) is no change under the new type", async () => {
    const earlier = { ...inputs(), mode: "seed", overwriteShared: false, commitSha: "x", revision: "main@sha1:x", paths: Object.keys(STARTER), commits: 1 };
    assert.deepEqual(await tenantSeedProvider.diff!("id", earlier as unknown as TenantSeedOutputs, inputs()), { changes: false, replaces: [] });
  });
});
