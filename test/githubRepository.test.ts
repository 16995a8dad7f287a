// The GitHub side against a GitHub API on loopback: repositories created, kept, found again; emptiness from refs; rate limits honoured.
import { strict as assert } from "assert";
import { gitCommitProvider, type GitCommitInputs } from "../components/providers/gitCommit";
import { CREATED_MARK, githubRepositoryProvider, type GitHubRepositoryInputs } from "../components/providers/githubRepository";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";

describe("GitHub repositories and the client", () => {
  let gh: FakeGitHub;
  beforeEach(async () => (gh = await startFakeGitHub()));
  afterEach(() => gh.close());

  const repoInputs = (extra: Partial<GitHubRepositoryInputs> = {}): GitHubRepositoryInputs => ({
    owner: "my-org",
    name: "team-a",
    visibility: "private",
    description: "Flux tenant team-a",
    token: "t",
    apiUrl: gh.url,
    ...extra,
  });

  describe("repository provider", () => {
    it("creates a private repository with a first commit, marked as the program's", async () => {
      const out = (await githubRepositoryProvider.create(repoInputs())).outs!;
      assert.equal(out.adopted, false);
      assert.deepEqual(gh.repo("my-org", "team-a"), { description: `Flux tenant team-a ${CREATED_MARK}`, visibility: "private", defaultBranch: "main" });
      assert.equal(gh.files("my-org", "team-a", "main").size, 1, "auto-initialised");
    });

    it("finds its own repository again after a destroy kept it, instead of failing on the name", async () => {
      await githubRepositoryProvider.create(repoInputs());
      // destroy keeps the repository: the provider has no delete
      assert.equal(githubRepositoryProvider.delete, undefined);
      const again = (await githubRepositoryProvider.create(repoInputs())).outs!;
      assert.equal(again.adopted, true);
      assert.equal(again.htmlUrl, "https://github.com/my-org/team-a");
      // Repositories created before the mark existed are recognised by their description too.
      gh.createRepo("my-org", "team-b", { description: "Flux tenant team-b" });
      assert.equal((await githubRepositoryProvider.create(repoInputs({ name: "team-b" }))).outs!.adopted, true);
    });

    it("refuses a repository of that name it did not create, saying how to adopt it", async () => {
      gh.createRepo("my-org", "team-a", { description: "the team's app" });
      await assert.rejects(githubRepositoryProvider.create(repoInputs()), {
        message: `GitHub repository my-org/team-a already exists and flux-multi-tenancy did not create it (its description does not end with "${CREATED_MARK}"); to use it, set create: false to adopt it, or choose another name`,
      });
    });

    it("creates a user's repository through /user/repos, and refuses when the token is another user's", async () => {
      gh.user = "alice";
      assert.equal((await githubRepositoryProvider.create(repoInputs({ owner: "alice" }))).outs!.adopted, false);
      assert.ok(gh.repo("alice", "team-a"));
      await assert.rejects(
        githubRepositoryProvider.create(repoInputs({ owner: "bob" })),
        /^Error: bob is not an organisation the token can create repositories in, and the token belongs to alice/,
      );
    });

    it("user-owned repositories are created private: /user/repos reads only `private`, never `visibility`", async () => {
      gh.user = "alice";
      const out = (await githubRepositoryProvider.create(repoInputs({ owner: "alice" }))).outs!;
      // GitHub made it private at once: no PATCH after the create, which would mean it was public for a moment.
      assert.equal(gh.repo("alice", "team-a")?.visibility, "private");
      assert.deepEqual(
        gh.requests.filter((r) => !r.startsWith("GET ")),
        ["POST /orgs/alice/repos", "POST /user/repos"],
      );
      assert.equal(out.reportedVisibility, "private", "what GitHub reported");
      const pub = (await githubRepositoryProvider.create(repoInputs({ owner: "alice", name: "open", visibility: "public" }))).outs!;
      assert.equal(pub.reportedVisibility, "public");
    });

    it("a request the description does not have fails the test, naming the operation and the field", async () => {
      // What the provider used to send: /user/repos has no `visibility`, so GitHub would drop it and make the repository public.
      const res = await fetch(`${gh.url}/user/repos`, {
        method: "POST",
        headers: { authorization: "token t", "content-type": "application/json" },
        body: JSON.stringify({ name: "x", visibility: "private" }),
      });
      assert.equal(res.status, 400);
      const expected = 'POST /user/repos (repos/create-for-authenticated-user): request body: field "visibility" is not declared by this operation';
      assert.deepEqual(gh.takeViolations(), [expected]);
      assert.match(((await res.json()) as { message: string }).message, /request outside GitHub's API description/);
      await fetch(`${gh.url}/repos/my-org/none/git/trees/main?depth=1`, { headers: { authorization: "token t" } });
      assert.deepEqual(gh.takeViolations(), [
        "GET /repos/{owner}/{repo}/git/trees/{tree_sha} (git/get-tree): query parameter depth is not declared by this operation",
      ]);
    });

    it("a visibility change is an update in place; a repository deleted out of band reads as gone", async () => {
      const out = (await githubRepositoryProvider.create(repoInputs())).outs!;
      assert.deepEqual(await githubRepositoryProvider.diff!("my-org/team-a", out, repoInputs({ visibility: "public" })), { changes: true, replaces: [] });
      const updated = (await githubRepositoryProvider.update!("my-org/team-a", out, repoInputs({ visibility: "public" }))).outs!;
      assert.equal(gh.repo("my-org", "team-a")?.visibility, "public");
      assert.equal(updated.reportedVisibility, "public");
      assert.deepEqual((await githubRepositoryProvider.diff!("my-org/team-a", out, repoInputs({ name: "team-z" }))).replaces, ["name"]);
      const missing = await githubRepositoryProvider.read!("my-org/gone", { ...out, name: "gone" });
      assert.equal(missing.id, "");
    });

    it("refresh reads the visibility GitHub reports, so a repository made public on GitHub is set back by the next up", async () => {
      const out = (await githubRepositoryProvider.create(repoInputs())).outs!;
      await fetch(`${gh.url}/repos/my-org/team-a`, { method: "PATCH", headers: { authorization: "token t" }, body: JSON.stringify({ private: false }) });
      const read = (await githubRepositoryProvider.read!("my-org/team-a", out)).props as typeof out;
      assert.equal(read.reportedVisibility, "public");
      assert.deepEqual(await githubRepositoryProvider.diff!("my-org/team-a", read, repoInputs()), { changes: true, replaces: [] });
      const fixed = (await githubRepositoryProvider.update!("my-org/team-a", read, repoInputs())).outs!;
      assert.equal(fixed.reportedVisibility, "private");
      assert.equal(gh.repo("my-org", "team-a")?.visibility, "private");
    });

    it("only GitHub's 'name already exists' answer means adoption: any other 422 stands in GitHub's words", async () => {
      gh.organisation("strict-org", { refuse: ["private"] });
      await assert.rejects(
        githubRepositoryProvider.create(repoInputs({ owner: "strict-org" })),
        /^Error: GitHub refused to create strict-org\/team-a: Repository creation failed\. Private repositories are not permitted by strict-org's policy$/,
      );
      assert.ok(!gh.requests.includes("GET /repos/strict-org/team-a"), "not taken for a repository that is there");
    });
  });

  describe("internal repositories (GitHub Enterprise Cloud's description)", () => {
    let ghec: FakeGitHub;
    beforeEach(async () => (ghec = await startFakeGitHub({ description: "ghec" })));
    afterEach(() => ghec.close());

    it("an enterprise's organisation gets an internal repository; another organisation's refusal stands in GitHub's words", async () => {
      ghec.organisation("corp", { enterprise: true });
      const out = (await githubRepositoryProvider.create(repoInputs({ owner: "corp", visibility: "internal", apiUrl: ghec.url }))).outs!;
      assert.equal(out.reportedVisibility, "internal");
      assert.equal(ghec.repo("corp", "team-a")?.visibility, "internal");
      await assert.rejects(
        githubRepositoryProvider.create(repoInputs({ visibility: "internal", apiUrl: ghec.url })),
        /^Error: GitHub refused to create my-org\/team-a: Repository creation failed\. internal repositories can only be created in organizations that belong to an enterprise account$/,
      );
      ghec.user = "alice";
      await assert.rejects(
        githubRepositoryProvider.create(repoInputs({ owner: "alice", visibility: "internal", apiUrl: ghec.url })),
        /^Error: alice is a user, and internal repositories exist only in organisations of an enterprise account: make team-a private or public$/,
      );
    });
  });

  describe("emptiness is read from refs, not GitHub's lazily computed size", () => {
    const commit = (extra: Partial<GitCommitInputs> = {}): GitCommitInputs => ({
      owner: "my-org",
      repository: "fleet",
      branch: "flux",
      files: { "clusters/staging/a.yaml": "a: 1\n" },
      message: "m",
      overwriteShared: false,
      token: "t",
      apiUrl: gh.url,
      ...extra,
    });

    it("a new repository reported as size 0 but holding a first commit gets the new branch from its default branch", async () => {
      gh.createRepo("my-org", "fleet", { files: { "README.md": "# fleet\n" } });
      gh.lazySize = true;
      await gitCommitProvider.create(commit());
      assert.deepEqual([...gh.files("my-org", "fleet", "flux").keys()].sort(), ["README.md", "clusters/staging/a.yaml"]);
      assert.ok(!gh.requests.some((r) => r.startsWith("PUT ") && r.includes("/contents/")), "no initialising commit");
    });

    it("a truly empty repository gets its first commit", async () => {
      gh.createRepo("my-org", "fleet");
      await gitCommitProvider.create(commit({ branch: "main" }));
      assert.deepEqual([...gh.files("my-org", "fleet", "main").keys()], ["clusters/staging/a.yaml"]);
    });
  });

  describe("rate limits", () => {
    let saved: string | undefined;
    before(() => {
      saved = process.env.FLUX_MULTI_TENANCY_GITHUB_THROTTLE;
      delete process.env.FLUX_MULTI_TENANCY_GITHUB_THROTTLE;
    });
    after(() => (process.env.FLUX_MULTI_TENANCY_GITHUB_THROTTLE = saved));

    it("a secondary rate limit is waited out (retry-after) and the request goes through", async () => {
      gh.rateLimit("secondary", 2);
      const started = Date.now();
      const out = (await githubRepositoryProvider.create(repoInputs())).outs!;
      assert.equal(out.adopted, false);
      assert.ok(Date.now() - started >= 2000, "waited retry-after (1 s) twice");
      assert.equal(gh.requests.filter((r) => r === "POST /orgs/my-org/repos").length, 3, "two refused, then created");
    });

    it("retries are bounded: a limit that does not lift fails the request", async () => {
      gh.rateLimit("secondary", 10);
      await assert.rejects(githubRepositoryProvider.create(repoInputs()), /secondary rate limit/);
      assert.equal(gh.requests.filter((r) => r === "POST /orgs/my-org/repos").length, 4, "the request and three retries");
    });

    it("a spent hourly budget is reported with when it resets, not waited for", async () => {
      gh.rateLimit("primary", 1, 1800);
      await assert.rejects(
        githubRepositoryProvider.create(repoInputs()),
        /^Error: GitHub's rate limit for this token is spent \(POST \/orgs\/\{org\}\/repos\); it resets in 30 minute\(s\): run again then, or with another token$/,
      );
    });
  });
});
