// The GitHub API budget per tenant: a no-op preview reads at most 2 times per tenant and writes nothing; a fresh up
// writes at most 3 times per tenant; adding a tenant is one fleet commit.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { measureGitHubBudget, type GitHubBudget } from "../bench/githubBudget";
import { generatedTenants } from "../bench/stack";
import { localManifest, stackRaw, syntheticInstallManifest } from "./helpers";

describe("GitHub API budget", () => {
  const budgets = new Map<number, GitHubBudget>();
  let dir: string;
  before(async function () {
    this.timeout(240_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "budget-"));
    const manifest = path.join(dir, "install.yaml");
    fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
    const raw = await stackRaw("staging");
    for (const n of [1, 20]) {
      budgets.set(n, await measureGitHubBudget(n, (count) => ({ ...raw, flux: localManifest(manifest), tenants: generatedTenants(count) })));
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const [small, large] = [1, 20];
  const perTenant = (f: (b: GitHubBudget) => number) => (f(budgets.get(large)!) - f(budgets.get(small)!)) / (large - small);

  it("a no-op preview with refresh writes nothing and changes nothing", () => {
    for (const b of budgets.values()) {
      assert.equal(b.noopPreview.writes, 0, `${b.tenants} tenants`);
      assert.deepEqual(b.noopChanges, [], `${b.tenants} tenants`);
    }
  });

  it("a no-op preview reads at most 2 times per tenant", () => {
    assert.ok(perTenant((b) => b.noopPreview.reads) <= 2, `${perTenant((b) => b.noopPreview.reads)} reads per tenant`);
  });

  it("a fresh up writes at most 3 times per tenant", () => {
    assert.ok(perTenant((b) => b.fresh.writes) <= 3, `${perTenant((b) => b.fresh.writes)} writes per tenant`);
  });

  it("adding a tenant is one fleet commit, and costs the same writes whatever the fleet's size", () => {
    for (const b of budgets.values()) assert.equal(b.addOne.fleetCommits, 1, `${b.tenants} tenants`);
    assert.equal(budgets.get(large)!.addOne.writes, budgets.get(small)!.addOne.writes);
  });
});
