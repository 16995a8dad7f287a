// The commit provider against a GitHub API on loopback: one commit per up, shared files guarded across stacks.
import { strict as assert } from "assert";
import { githubContains } from "../components/providers/flux";
import { gitCommitProvider, type GitCommitInputs, type GitCommitOutputs } from "../components/providers/gitCommit";
import type { FileTree } from "../manifests";
import { gitBlobSha } from "../manifests/fleetPlan";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";
import { render, stackConfig } from "./helpers";

const OWNER = "my-org";
const REPO = "fleet-infra";

function inputs(gh: FakeGitHub, files: FileTree, extra: Partial<GitCommitInputs> = {}): GitCommitInputs {
  return {
    owner: OWNER,
    repository: REPO,
    branch: "main",
    files: { ...files },
    message: "flux-multi-tenancy: test",
    overwriteShared: false,
    token: "t",
    apiUrl: gh.url,
    ...extra,
  };
}

async function up(gh: FakeGitHub, files: FileTree, previous?: GitCommitOutputs, extra: Partial<GitCommitInputs> = {}): Promise<GitCommitOutputs> {
  const news = inputs(gh, files, extra);
  if (!previous) return (await gitCommitProvider.create(news)).outs!;
  return (await gitCommitProvider.update!("id", previous, news)).outs!;
}

const addTenant = (name: string) => (raw: Record<string, unknown>) => {
  raw.tenants = [...(raw.tenants as object[]), { name, namespace: name }];
};

describe("GitHub commit provider", () => {
  let gh: FakeGitHub;
  let staging: FileTree;
  let production: FileTree;
  before(async () => {
    staging = render(await stackConfig("staging"));
    production = render(await stackConfig("production"));
  });
  beforeEach(async () => {
    gh = await startFakeGitHub();
    gh.createRepo(OWNER, REPO, { files: { "README.md": "# fleet\n" } });
  });
  afterEach(() => gh.close());

  it("commits every file of the first up in one commit", async () => {
    const out = await up(gh, staging);
    assert.equal(gh.commitsOn(OWNER, REPO, "main"), 1);
    assert.equal(out.commits, 1);
    assert.equal(out.revision, `main@sha1:${out.commitSha}`);
    assert.deepEqual(out.paths, Object.keys(staging).sort());
    const files = gh.files(OWNER, REPO, "main");
    for (const [p, text] of Object.entries(staging)) assert.equal(files.get(p), text, p);
    assert.equal(files.get("README.md"), "# fleet\n", "files the stack does not render are left alone");
  });

  it("an up with nothing changed makes no commit and no write", async () => {
    const first = await up(gh, staging);
    const writes = gh.writes().length;
    const again = await up(gh, staging, first);
    assert.equal(again.commits, 0);
    assert.equal(again.commitSha, first.commitSha);
    assert.equal(gh.writes().length, writes);
  });

  it("adding a tenant is one commit touching only that tenant's files and the overlay list", async () => {
    const first = await up(gh, staging);
    const before = gh.files(OWNER, REPO, "main");
    const withTeam = render(await stackConfig("staging", addTenant("team-b")));
    const out = await up(gh, withTeam, first);
    assert.equal(out.commits, 1);
    const after = gh.files(OWNER, REPO, "main");
    const changed = [...after.keys()].filter((p) => after.get(p) !== before.get(p)).sort();
    assert.deepEqual(changed, [
      "tenants/base/team-b/kustomization.yaml",
      "tenants/base/team-b/rbac.yaml",
      "tenants/base/team-b/sync.yaml",
      "tenants/staging/kustomization.yaml",
      "tenants/staging/team-b-namespace.yaml",
      "tenants/staging/team-b-patch.yaml",
      "tenants/staging/team-b-receiver.yaml",
    ]);
    const trees = gh.writes().filter((w) => w.endsWith("/git/trees"));
    assert.equal(trees.length, 2, "one tree per up, whatever the number of files");
  });

  it("removing a tenant deletes its files in one commit", async () => {
    const withTeam = render(await stackConfig("staging", addTenant("team-b")));
    const first = await up(gh, withTeam);
    await up(gh, staging, first);
    const files = gh.files(OWNER, REPO, "main");
    assert.ok(![...files.keys()].some((p) => p.includes("team-b")));
    assert.equal(gh.commitsOn(OWNER, REPO, "main"), 2);
  });

  it("initialises an empty repository, then commits the rest", async () => {
    gh.createRepo(OWNER, "empty");
    const out = await up(gh, staging, undefined, { repository: "empty" });
    assert.deepEqual([...gh.files(OWNER, "empty", "main").keys()].sort(), Object.keys(staging).sort());
    assert.equal(out.commits, 2, "the contents API's first file, then one commit for the rest");
  });

  it("creates the branch when it does not exist yet", async () => {
    await up(gh, staging, undefined, { branch: "fleet" });
    assert.ok(gh.files(OWNER, REPO, "fleet").has("clusters/staging/tenants.yaml"));
    assert.ok(!gh.files(OWNER, REPO, "main").has("clusters/staging/tenants.yaml"));
  });

  it("a push that loses the race is planned again on the new head, not forced", async () => {
    gh.raceOnce(OWNER, REPO, "main");
    const out = await up(gh, staging);
    const files = gh.files(OWNER, REPO, "main");
    assert.equal(files.get("OTHER.md"), "other push\n", "the other push is kept");
    assert.ok(files.has("clusters/staging/tenants.yaml"));
    assert.equal(out.commits, 1);
    assert.equal(gh.writes().filter((w) => w.startsWith("PATCH")).length, 2);
  });

  it("says when the token cannot add deploy keys", async () => {
    gh.createRepo(OWNER, "readonly", { admin: false, files: { a: "a" } });
    await assert.rejects(up(gh, staging, undefined, { repository: "readonly" }), {
      message:
        "the GitHub token has no admin rights on my-org/readonly, and adding deploy keys needs them: use a classic token with the repo scope held by a repository admin, or a fine-grained token with Administration and Contents read/write",
    });
  });

  it("says when an adopted repository does not exist", async () => {
    await assert.rejects(up(gh, staging, undefined, { repository: "nope" }), /GitHub repository my-org\/nope is not found/);
  });

  describe("two stacks, one fleet repository", () => {
    it("never fight: each writes its own environment, shared files once, and re-running changes nothing", async () => {
      const s1 = await up(gh, staging);
      const p1 = await up(gh, production);
      const shared = Object.keys(production).filter((p) => p.startsWith("tenants/base/") || p.startsWith("infrastructure/"));
      assert.ok(shared.length > 0);
      const commits = gh.commitsOn(OWNER, REPO, "main");
      const s2 = await up(gh, staging, s1);
      const p2 = await up(gh, production, p1);
      assert.equal(s2.commits + p2.commits, 0, "no flip-flop");
      assert.equal(gh.commitsOn(OWNER, REPO, "main"), commits);
    });

    it("destroying one stack leaves every file the other reads", async () => {
      const s1 = await up(gh, staging);
      await up(gh, production);
      await gitCommitProvider.delete!("id", s1);
      const files = gh.files(OWNER, REPO, "main");
      for (const [p, text] of Object.entries(production)) assert.equal(files.get(p), text, p);
      assert.ok(![...files.keys()].some((p) => p.startsWith("clusters/staging/") || p.startsWith("tenants/staging/")));
    });

    it("destroying the last stack removes the shared files too", async () => {
      const s1 = await up(gh, staging);
      await gitCommitProvider.delete!("id", s1);
      assert.deepEqual([...gh.files(OWNER, REPO, "main").keys()], ["README.md"]);
    });

    it("refuses to change a shared file the other stack reads differently, unless told to", async () => {
      await up(gh, staging);
      const moved = render(await stackConfig("production", (raw) => ((raw.tenants as Record<string, unknown>[])[0].branch = "release")));
      await assert.rejects(up(gh, moved), (e: Error) => {
        assert.match(
          e.message,
          /^these shared fleet files differ from what another stack committed and still reads:\n {2}tenants\/base\/dev-team\/sync\.yaml \(read through tenants\/staging\/kustomization\.yaml\)\n/,
        );
        return true;
      });
      const out = await up(gh, moved, undefined, { overwriteShared: true });
      assert.equal(out.commits, 1);
      assert.match(gh.files(OWNER, REPO, "main").get("tenants/base/dev-team/sync.yaml")!, /branch: release/);
    });
  });

  it("tells the readiness waits whether a later head contains a commit", async () => {
    const first = await up(gh, staging);
    const second = await up(gh, production);
    const contains = githubContains({ repository: `${OWNER}/${REPO}`, token: "t", apiUrl: gh.url })!;
    assert.equal(await contains(first.commitSha, second.commitSha), true);
    assert.equal(await contains(second.commitSha, first.commitSha), false);
    assert.equal(await contains(first.commitSha, first.commitSha), true);
    assert.equal(await contains("0".repeat(40), first.commitSha), false, "an unknown commit is not contained");
    assert.equal(githubContains({ repository: "", token: "", apiUrl: "" }), undefined);
  });

  it("refresh of the fleet commit is one read when nothing drifted", async () => {
    const first = await up(gh, staging);
    const requests = gh.requests.length;
    await gitCommitProvider.read!("id", first);
    assert.deepEqual(gh.requests.slice(requests), ["GET /repos/my-org/fleet-infra/git/trees/main"]);
  });

  it("refresh reads back this stack's files as the branch holds them; the next up writes what was changed or deleted out of band", async () => {
    const first = await up(gh, staging);
    const [changed, removed] = ["clusters/staging/tenants.yaml", "tenants/staging/kustomization.yaml"];
    gh.pushOutOfBand(OWNER, REPO, "main", { [changed]: "edited by hand\n", [removed]: null, "NOTES.md": "someone else's file\n" });
    const requests = gh.requests.length;
    const refreshed = (await gitCommitProvider.read!("id", first)).props as GitCommitOutputs;
    // The state records the branch's files by their blob SHAs (the texts are the inputs), and reads none of them back.
    assert.equal(refreshed.fileShas[changed], gitBlobSha("edited by hand\n"));
    assert.ok(!(removed in refreshed.fileShas));
    assert.equal(refreshed.files, undefined);
    assert.deepEqual(gh.requests.slice(requests), ["GET /repos/my-org/fleet-infra/git/trees/main"], "one read, no blob read");
    assert.equal((await gitCommitProvider.diff!("id", refreshed, inputs(gh, staging))).changes, true);
    const repaired = (await gitCommitProvider.update!("id", refreshed, inputs(gh, staging))).outs!;
    assert.equal(repaired.commits, 1);
    const files = gh.files(OWNER, REPO, "main");
    assert.equal(files.get(changed), staging[changed]);
    assert.equal(files.get(removed), staging[removed]);
    assert.equal(files.get("NOTES.md"), "someone else's file\n", "files that are not this stack's are left alone");
    // Nothing drifted: refresh reads the same state, and no up follows.
    const again = (await gitCommitProvider.read!("id", repaired)).props as GitCommitOutputs;
    assert.deepEqual(again.fileShas, repaired.fileShas);
  });

  it("a state written with the files' texts (before their SHAs) is no change for the same files, and its refresh records the SHAs", async () => {
    const first = await up(gh, staging);
    const { fileShas: _, ...rest } = first;
    const legacy = { ...rest, files: { ...staging } } as unknown as GitCommitOutputs;
    assert.equal((await gitCommitProvider.diff!("id", legacy, inputs(gh, staging))).changes, false);
    const refreshed = (await gitCommitProvider.read!("id", legacy)).props as GitCommitOutputs;
    assert.deepEqual(refreshed.fileShas, first.fileShas);
    assert.equal(refreshed.files, undefined);
    assert.equal((await gitCommitProvider.diff!("id", refreshed, inputs(gh, staging))).changes, false);
  });

  describe("credentials are the current ones, not those of the create", () => {
    let saved: string | undefined;
    beforeEach(() => {
      saved = process.env.GITHUB_TOKEN;
      delete process.env.GITHUB_TOKEN;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.GITHUB_TOKEN;
      else process.env.GITHUB_TOKEN = saved;
    });

    it("a new token alone is an update that records it, with no request to GitHub", async () => {
      const first = await up(gh, staging);
      const rotated = inputs(gh, staging, { token: "t2" });
      assert.deepEqual(await gitCommitProvider.diff!("id", first, rotated), { changes: true, replaces: [] });
      const requests = gh.requests.length;
      const out = (await gitCommitProvider.update!("id", first, rotated)).outs!;
      assert.equal(gh.requests.length, requests);
      assert.equal(out.token, "t2");
      assert.equal(out.commitSha, first.commitSha);
      gh.revokedTokens.add("t");
      await gitCommitProvider.delete!("id", out);
      assert.ok(!gh.files(OWNER, REPO, "main").has("clusters/staging/tenants.yaml"), "the delete ran with the recorded new token");
    });

    it("one token rule for every operation: the stack's github:token when it has one, else GITHUB_TOKEN; a stray GITHUB_TOKEN changes nothing", async () => {
      const first = await up(gh, staging);
      // Another account's token in the environment: refresh and destroy still use the stack's.
      process.env.GITHUB_TOKEN = "stray";
      gh.revokedTokens.add("stray");
      assert.equal((await gitCommitProvider.read!("id", first)).id, "id");
      await gitCommitProvider.delete!("id", first);
      assert.ok(!gh.files(OWNER, REPO, "main").has("clusters/staging/tenants.yaml"));
      // A stack without github:token reads GITHUB_TOKEN, in every operation alike.
      process.env.GITHUB_TOKEN = "env";
      const fromEnv = (await gitCommitProvider.create(inputs(gh, staging, { token: "" }))).outs!;
      assert.equal(fromEnv.token, "");
      assert.equal((await gitCommitProvider.read!("id", fromEnv)).id, "id");
      gh.revokedTokens.add("env");
      await assert.rejects(
        gitCommitProvider.read!("id", fromEnv),
        /^Error: GitHub refused the token \(Bad credentials\) on GET .*: the program uses the stack's github:token when it has one, else GITHUB_TOKEN; a refresh or destroy uses the github:token recorded at the last up, so after changing it run pulumi up --refresh=false once to record the new one/,
      );
    });

    it("a revoked recorded token stops refresh with the way to record the new one", async () => {
      const first = await up(gh, staging);
      gh.revokedTokens.add("t");
      process.env.GITHUB_TOKEN = "current";
      await assert.rejects(
        gitCommitProvider.read!("id", first),
        /GitHub refused the token \(Bad credentials\).*run pulumi up --refresh=false once to record the new one/,
      );
      // The up that records the new token makes no request (the previous test's rule), and refresh then works.
      const recorded = (await gitCommitProvider.update!("id", first, { ...inputs(gh, staging), token: "current" })).outs!;
      assert.equal((await gitCommitProvider.read!("id", recorded)).id, "id");
    });
  });
});
