// The dynamic providers as the engine runs them: serialized by Pulumi's closure serializer into the state, then loaded
// from that text by the dynamic-provider host. What does not survive the trip (a module-level Set, a class instance the
// serializer cannot carry) fails here instead of on a user's first up.
import { strict as assert } from "assert";
import { createRequire } from "module";
import type * as pulumi from "@pulumi/pulumi";
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

async function asTheEngineRunsIt<T extends pulumi.dynamic.ResourceProvider>(provider: T): Promise<T> {
  const { text } = await serializeFunction(() => provider, { allowSecrets: true });
  return requireFromString(text).handler() as T;
}

describe("dynamic providers, serialized and loaded as the engine runs them", function () {
  this.timeout(120_000);
  let gh: FakeGitHub;
  before(async () => (gh = await startFakeGitHub()));
  after(() => gh.close());

  it("the GitHub providers work after the trip: a repository, the fleet commit, the tenant seed, a deploy key, the default branch", async () => {
    const [repository, commit, seed, key, branch] = await Promise.all([
      asTheEngineRunsIt(githubRepositoryProvider),
      asTheEngineRunsIt(gitCommitProvider),
      asTheEngineRunsIt(tenantSeedProvider),
      asTheEngineRunsIt(githubDeployKeyProvider),
      asTheEngineRunsIt(githubDefaultBranchProvider),
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
