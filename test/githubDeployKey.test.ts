// Deploy keys and the default branch on the program's own GitHub client, against the loopback GitHub: created, read back
// as GitHub reports them, and taken over from the state pulumi-github left without a write or a replacement.
import { strict as assert } from "assert";
import { githubDefaultBranchProvider, type GitHubDefaultBranchInputs } from "../components/providers/githubDefaultBranch";
import { githubDeployKeyProvider, type GitHubDeployKeyInputs, type GitHubDeployKeyOutputs } from "../components/providers/githubDeployKey";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";

const KEY = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBFakeKeyForTheLoopbackGitHubOnly";

describe("GitHub deploy keys and default branch", () => {
  let gh: FakeGitHub;
  beforeEach(async () => {
    gh = await startFakeGitHub();
    gh.createRepo("my-org", "fleet-infra", { autoInit: true });
  });
  afterEach(() => gh.close());

  const keyInputs = (extra: Partial<GitHubDeployKeyInputs> = {}): GitHubDeployKeyInputs => ({
    owner: "my-org",
    repository: "fleet-infra",
    title: "flux-staging",
    key: KEY,
    readOnly: true,
    token: "t",
    apiUrl: gh.url,
    ...extra,
  });

  it("registers a read-only key, as GitHub reports it, under pulumi-github's id form", async () => {
    const { id, outs } = await githubDeployKeyProvider.create(keyInputs());
    assert.match(id, /^fleet-infra:\d+$/);
    assert.equal(outs!.readOnly, true);
    assert.equal(id, `fleet-infra:${outs!.keyId}`);
    // Asked for explicitly: GitHub's default is a key that can push.
    assert.deepEqual(gh.writes(), ["POST /repos/my-org/fleet-infra/keys"]);
  });

  it("a key GitHub already holds for the repository (an earlier create that failed after GitHub added it) is taken, not refused", async () => {
    const first = await githubDeployKeyProvider.create(keyInputs());
    const again = await githubDeployKeyProvider.create(keyInputs());
    assert.equal(again.id, first.id);
    // A key another repository holds is GitHub's refusal, in its words.
    gh.createRepo("my-org", "other", { autoInit: true });
    await assert.rejects(
      githubDeployKeyProvider.create(keyInputs({ repository: "other" })),
      /^Error: GitHub refused the deploy key flux-staging on my-org\/other: Validation Failed key is already in use$/,
    );
  });

  it("refresh reads the key as GitHub reports it: made writable there, it is replaced; deleted there, it is added again", async () => {
    const { id, outs } = await githubDeployKeyProvider.create(keyInputs());
    const same = (await githubDeployKeyProvider.read!(id, outs)).props as GitHubDeployKeyOutputs;
    assert.deepEqual(await githubDeployKeyProvider.diff!(id, same, keyInputs()), { changes: false, replaces: [] });
    const writable = { ...same, readOnly: false };
    assert.deepEqual(await githubDeployKeyProvider.diff!(id, writable, keyInputs()), { changes: true, replaces: ["readOnly"] });
    await githubDeployKeyProvider.delete!(id, same);
    await githubDeployKeyProvider.delete!(id, same); // already gone: no error
    assert.equal((await githubDeployKeyProvider.read!(id, same)).id, "");
  });

  it("takes over a key pulumi-github registered: the first up updates the state only, with no request to GitHub", async () => {
    const { id, outs } = await githubDeployKeyProvider.create(keyInputs());
    // What pulumi-github's state holds for it (its outputs; no owner, token or API URL: its provider had them).
    const legacy = {
      id,
      key: KEY,
      readOnly: true,
      repository: "fleet-infra",
      title: "flux-staging",
      etag: 'W/"x"',
      url: "",
    } as unknown as GitHubDeployKeyOutputs;
    const diff = await githubDeployKeyProvider.diff!(id, legacy, keyInputs());
    assert.deepEqual(diff, { changes: true, replaces: [] }, "an update, not a replacement");
    const requests = gh.requests.length;
    const taken = (await githubDeployKeyProvider.update!(id, legacy, keyInputs())).outs!;
    assert.equal(gh.requests.length, requests, "no request");
    assert.equal(taken.keyId, outs!.keyId);
    assert.deepEqual(await githubDeployKeyProvider.diff!(id, taken, keyInputs()), { changes: false, replaces: [] });
    assert.equal((await githubDeployKeyProvider.read!(id, taken)).id, id, "read as its own from then on");
  });

  const branchInputs = (extra: Partial<GitHubDefaultBranchInputs> = {}): GitHubDefaultBranchInputs => ({
    owner: "my-org",
    repository: "fleet-infra",
    branch: "main",
    token: "t",
    apiUrl: gh.url,
    ...extra,
  });

  it("sets the default branch, reads it back as GitHub reports it, and takes over pulumi-github's without a write", async () => {
    gh.pushOutOfBand("my-org", "fleet-infra", "main", { "a.yaml": "a: 1\n" });
    await fetch(`${gh.url}/repos/my-org/fleet-infra/git/refs`, {
      method: "POST",
      headers: { authorization: "token t" },
      body: JSON.stringify({
        ref: "refs/heads/flux",
        sha: (
          (await (await fetch(`${gh.url}/repos/my-org/fleet-infra/git/ref/heads/main`, { headers: { authorization: "token t" } })).json()) as {
            object: { sha: string };
          }
        ).object.sha,
      }),
    });
    const { id, outs } = await githubDefaultBranchProvider.create(branchInputs({ branch: "flux" }));
    assert.equal(id, "fleet-infra");
    assert.equal(gh.repo("my-org", "fleet-infra")?.defaultBranch, "flux");
    await fetch(`${gh.url}/repos/my-org/fleet-infra`, {
      method: "PATCH",
      headers: { authorization: "token t" },
      body: JSON.stringify({ default_branch: "main" }),
    });
    const read = (await githubDefaultBranchProvider.read!(id, outs)).props as GitHubDefaultBranchInputs;
    assert.equal(read.branch, "main");
    assert.deepEqual(await githubDefaultBranchProvider.diff!(id, read, branchInputs({ branch: "flux" })), { changes: true, replaces: [] });
    // pulumi-github's state: no owner, token or API URL.
    const legacy = { id: "fleet-infra", branch: "main", repository: "fleet-infra", rename: false, etag: "" } as unknown as GitHubDefaultBranchInputs;
    assert.deepEqual(await githubDefaultBranchProvider.diff!(id, legacy, branchInputs()), { changes: true, replaces: [] });
    const writes = gh.writes().length;
    assert.deepEqual((await githubDefaultBranchProvider.update!(id, legacy, branchInputs())).outs, branchInputs());
    assert.equal(gh.writes().length, writes, "no write");
    await assert.rejects(
      githubDefaultBranchProvider.create(branchInputs({ branch: "nope" })),
      /^Error: GitHub refused nope as the default branch of my-org\/fleet-infra: Validation Failed/,
    );
  });
});
