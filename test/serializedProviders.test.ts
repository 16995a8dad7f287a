// The dynamic providers as the engine runs them: serialized by Pulumi's closure serializer into the state, then loaded
// from that text by the dynamic-provider host. The state holds a reference (reference.ts), small, and the host reaches
// the implementation through the providers package; what does not survive the trip fails here instead of on a user's
// first up. A stack whose state holds the providers' code (as every stack made before the references does) is updated
// to the references by its next up, with nothing replaced and nothing written where the resources live.
import { strict as assert } from "assert";
import { createRequire } from "module";
import type * as pulumi from "@pulumi/pulumi";
import { byReference, methodsOf, type ProviderName } from "../components/providers/reference";
import { providers } from "../components/providers/registry";
import { gitCommitProvider } from "../components/providers/gitCommit";
import { githubDefaultBranchProvider } from "../components/providers/githubDefaultBranch";
import { githubDeployKeyProvider } from "../components/providers/githubDeployKey";
import { githubRepositoryProvider } from "../components/providers/githubRepository";
import { tenantSeedProvider } from "../components/providers/tenantSeed";
import { startFakeGitHub, type FakeGitHub } from "./fakeGitHub";

/** The SDK's own serializer and the host's own loader (require-from-string, as cmd/dynamic-provider loads `__provider`). */
const sdk = createRequire(require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js"));
const { serializeFunction } = sdk("../../runtime/closure/serializeClosure") as {
  serializeFunction(f: () => unknown, opts: { allowSecrets: boolean }): Promise<{ text: string }>;
};
const requireFromString = sdk("require-from-string") as (code: string) => { handler(): unknown };

/** The text the state holds for a provider (`__provider`), as the SDK writes it. */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await serializeFunction(() => provider, { allowSecrets: true })).text;
}

/** A provider as a resource gives it to the engine (by reference), loaded back from its text as the host loads it. */
async function asTheEngineRunsIt<I, O>(name: ProviderName, impl: pulumi.dynamic.ResourceProvider<I, O>): Promise<pulumi.dynamic.ResourceProvider> {
  return requireFromString(await serialized(byReference(name, impl) as pulumi.dynamic.ResourceProvider)).handler() as pulumi.dynamic.ResourceProvider;
}

/** The most provider text a resource may carry in the state (twice: inputs and outputs). */
const MAX_PROVIDER_TEXT = 2048;

describe("dynamic providers, serialized and loaded as the engine runs them", function () {
  this.timeout(120_000);
  let gh: FakeGitHub;
  before(async () => (gh = await startFakeGitHub()));
  after(() => gh.close());

  it("the GitHub providers work after the trip: a repository, the fleet commit, the tenant seed, a deploy key, the default branch", async () => {
    const [repository, commit, seed, key, branch] = await Promise.all([
      asTheEngineRunsIt("githubRepository", githubRepositoryProvider),
      asTheEngineRunsIt("gitCommit", gitCommitProvider),
      asTheEngineRunsIt("tenantSeed", tenantSeedProvider),
      asTheEngineRunsIt("githubDeployKey", githubDeployKeyProvider),
      asTheEngineRunsIt("githubDefaultBranch", githubDefaultBranchProvider),
    ]);
    const common = { owner: "my-org", token: "t", apiUrl: gh.url };
    await repository.create({ ...common, name: "fleet", visibility: "private", description: "Fleet repository: Flux multi-tenancy layout" });
    await repository.create({ ...common, name: "team-a", visibility: "private", description: "Flux tenant team-a" });
    const fleet = await commit.create({
      ...common,
      repository: "fleet",
      branch: "main",
      files: { "clusters/lab/a.yaml": "a: 1\n" },
      message: "m",
      overwriteShared: false,
    });
    assert.equal(fleet.outs!.commits, 1);
    const seeded = await seed.create({
      ...common,
      repository: "team-a",
      branch: "main",
      files: { "lab/kustomization.yaml": "resources: []\n" },
      message: "seed",
    });
    assert.equal(seeded.outs!.seeded, true);
    const again = await seed.create({
      ...common,
      repository: "team-a",
      branch: "main",
      files: { "lab/kustomization.yaml": "resources: []\n" },
      message: "seed",
    });
    assert.equal(again.outs!.seeded, false);
    const k = await key.create({
      ...common,
      repository: "fleet",
      title: "flux-lab",
      key: "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBSerialized",
      readOnly: true,
    });
    assert.match(k.id, /^fleet:\d+$/);
    await branch.create({ ...common, repository: "fleet", branch: "main" });
    assert.equal(gh.repo("my-org", "fleet")?.defaultBranch, "main");
  });
});

describe("dynamic providers in the state: a reference, not the code", function () {
  this.timeout(300_000);

  it(`every provider's text is at most ${MAX_PROVIDER_TEXT} bytes, names only its provider and the package, and offers the implementation's methods`, async () => {
    const sizes: string[] = [];
    for (const name of Object.keys(providers) as ProviderName[]) {
      const text = await serialized(byReference(name, providers[name] as pulumi.dynamic.ResourceProvider));
      sizes.push(`${name} ${text.length}`);
      assert.ok(text.length <= MAX_PROVIDER_TEXT, `${name}: ${text.length} bytes of provider text`);
      assert.ok(text.includes(`"${name}"`) && text.includes('require("flux-multi-tenancy-providers")'), text);
      assert.ok(!text.includes(process.cwd()), `${name}: the text holds this checkout's path`);
      const loaded = requireFromString(text).handler() as Record<string, unknown>;
      assert.deepEqual(Object.keys(loaded).sort(), methodsOf(providers[name] as pulumi.dynamic.ResourceProvider).sort(), name);
    }
    console.log(`      provider text (bytes): ${sizes.join(", ")}`);
  });

  it("one reference object per provider, so the SDK serializes it once and reuses the text for every resource", () => {
    assert.equal(byReference("githubDeployKey", githubDeployKeyProvider), byReference("githubDeployKey", githubDeployKeyProvider));
    assert.notEqual(byReference("githubDeployKey", githubDeployKeyProvider), byReference("tenantSeed", tenantSeedProvider));
  });

  describe("a stack whose state holds the providers' code, at its next up", () => {
    let gh: FakeGitHub;
    before(async () => (gh = await startFakeGitHub()));
    after(() => gh.close());

    it("each resource is an update to the reference with its outputs as they were: nothing replaced, nothing written to GitHub", async () => {
      const common = { owner: "my-org", token: "t", apiUrl: gh.url };
      // The resources as a stack made before the references has them: created by the code its state holds.
      const before = {
        githubRepository: await serialized(githubRepositoryProvider),
        githubDeployKey: await serialized(githubDeployKeyProvider),
        tenantSeed: await serialized(tenantSeedProvider),
      };
      const repoInputs = { ...common, name: "team-a", visibility: "private", description: "Flux tenant team-a" };
      const repo = await (requireFromString(before.githubRepository).handler() as pulumi.dynamic.ResourceProvider).create(repoInputs);
      const keyInputs = {
        ...common,
        repository: "team-a",
        title: "flux-lab",
        key: "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBOld",
        readOnly: true,
      };
      const key = await (requireFromString(before.githubDeployKey).handler() as pulumi.dynamic.ResourceProvider).create(keyInputs);
      const seedInputs = { ...common, repository: "team-a", branch: "main", files: { "lab/kustomization.yaml": "resources: []\n" }, message: "seed" };
      const seed = await (requireFromString(before.tenantSeed).handler() as pulumi.dynamic.ResourceProvider).create(seedInputs);
      const writes = gh.writes().length;

      const cases: [ProviderName, string, { id: string; outs?: Record<string, unknown> }, Record<string, unknown>][] = [
        ["githubRepository", before.githubRepository, repo, repoInputs],
        ["githubDeployKey", before.githubDeployKey, key, keyInputs],
        ["tenantSeed", before.tenantSeed, seed, seedInputs], // a provider with no update of its own
      ];
      for (const [name, oldText, created, inputs] of cases) {
        const newText = await serialized(byReference(name, providers[name] as pulumi.dynamic.ResourceProvider));
        assert.ok(oldText.length > 4 * newText.length, `${name}: ${oldText.length} bytes before, ${newText.length} after`);
        const provider = requireFromString(newText).handler() as pulumi.dynamic.ResourceProvider;
        const olds = { ...created.outs, __provider: oldText };
        const news = { ...inputs, __provider: newText };
        const diff = await provider.diff!(created.id, olds, news);
        assert.equal(diff.changes, true, name);
        assert.deepEqual(diff.replaces ?? [], [], name);
        const updated = await provider.update!(created.id, olds, news);
        assert.deepEqual(updated.outs, created.outs, name);
        // Once on the reference, the same inputs are no change at all.
        assert.equal((await provider.diff!(created.id, { ...created.outs, __provider: newText }, news)).changes, false, name);
      }
      assert.equal(gh.writes().length, writes, `writes: ${gh.writes().slice(writes).join(", ")}`);
    });
  });
});
