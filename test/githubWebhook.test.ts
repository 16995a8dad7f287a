// The push webhook to a Flux Receiver, on the program's own GitHub client, against the loopback GitHub held to GitHub's
// description: registered as the Receiver needs it, taken again after a lost create, updated in place, gone on delete.
import { strict as assert } from "assert";
import { githubWebhookProvider, type GitHubWebhookInputs, type GitHubWebhookOutputs } from "../components/providers/githubWebhook";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";

describe("GitHub webhooks to Flux Receivers", () => {
  let gh: FakeGitHub;
  beforeEach(async () => {
    gh = await startFakeGitHub();
    gh.createRepo("my-org", "team-a", { autoInit: true });
  });
  afterEach(() => gh.close());

  const inputs = (extra: Partial<GitHubWebhookInputs> = {}): GitHubWebhookInputs => ({
    owner: "my-org",
    repository: "team-a",
    url: "https://flux-webhook.example.com/hook/abc",
    secret: "receiver-token",
    token: "t",
    apiUrl: gh.url,
    ...extra,
  });

  it("registers push events in JSON, TLS verified, signed with the Receiver's token", async () => {
    const { id, outs } = await githubWebhookProvider.create(inputs());
    assert.equal(id, `team-a:${outs!.hookId}`);
    assert.deepEqual(gh.hooks("my-org", "team-a"), [
      { url: "https://flux-webhook.example.com/hook/abc", contentType: "json", secret: "receiver-token", insecureSsl: "0", events: ["push"], active: true },
    ]);
    assert.deepEqual(gh.writes(), ["POST /repos/my-org/team-a/hooks"]);
  });

  it("a hook to the same URL already there (an earlier create lost its answer) is taken and set, not refused", async () => {
    const first = await githubWebhookProvider.create(inputs());
    const again = await githubWebhookProvider.create(inputs({ secret: "rotated" }));
    assert.equal(again.id, first.id);
    assert.equal(gh.hooks("my-org", "team-a").length, 1);
    assert.equal(gh.hooks("my-org", "team-a")[0].secret, "rotated");
  });

  it("a new token or URL is an update of the same hook; another repository is another hook; refresh sees a deleted hook gone", async () => {
    const { id, outs } = await githubWebhookProvider.create(inputs());
    const o = outs as GitHubWebhookOutputs;
    assert.deepEqual(await githubWebhookProvider.diff!(id, o, inputs()), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await githubWebhookProvider.diff!(id, o, inputs({ secret: "new" })), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await githubWebhookProvider.diff!(id, o, inputs({ repository: "team-b" })), {
      changes: true,
      replaces: ["repository"],
      deleteBeforeReplace: false,
    });
    await githubWebhookProvider.update!(id, o, inputs({ secret: "new", url: "https://flux-webhook.example.com/hook/def" }));
    assert.deepEqual(
      gh.hooks("my-org", "team-a").map((h) => [h.url, h.secret]),
      [["https://flux-webhook.example.com/hook/def", "new"]],
    );
    // GitHub never shows a secret back: a refresh reads the URL only.
    const read = (await githubWebhookProvider.read!(id, o)).props as GitHubWebhookOutputs;
    assert.deepEqual([read.url, read.secret], ["https://flux-webhook.example.com/hook/def", "receiver-token"]);
    await githubWebhookProvider.delete!(id, o);
    await githubWebhookProvider.delete!(id, o); // already gone: no error
    assert.deepEqual(gh.hooks("my-org", "team-a"), []);
    assert.equal((await githubWebhookProvider.read!(id, o)).id, "");
  });

  it("a token without administration of the repository is told it is not there, as GitHub tells it", async () => {
    gh.createRepo("my-org", "not-mine", { autoInit: true, admin: false });
    await assert.rejects(githubWebhookProvider.create(inputs({ repository: "not-mine" })), { status: 404 });
  });
});
