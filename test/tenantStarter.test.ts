import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseYamlDocuments, renderTenantStarter } from "../manifests";
import { comparable, kustomizeBuild, REFERENCE_DIR, requireKubectl, requirePath, stackConfig, writeTemp } from "./helpers";

describe("tenant starter layout", () => {
  it("means the same as the upstream dev-team branch, with current APIs and patches", async function () {
    const ref = path.join(requirePath(this, REFERENCE_DIR, "../shared/reference/flux2-multi-tenancy"), "dev-team-branch");
    const tenant = (await stackConfig("staging")).tenants[0];
    const files = renderTenantStarter(tenant);
    const refFiles = ["base", "staging", "production"].flatMap((d) => fs.readdirSync(path.join(ref, d)).map((f) => `${d}/${f}`)).sort();
    assert.deepEqual(Object.keys(files).sort(), refFiles);
    for (const file of refFiles) {
      let expected = parseYamlDocuments(fs.readFileSync(path.join(ref, file), "utf8"), file) as Record<string, unknown>[];
      if (file.endsWith("kustomization.yaml") && file !== "base/kustomization.yaml") {
        // patchesStrategicMerge is deprecated in Kustomize v5: the same patch, as `patches`.
        expected = expected.map(({ patchesStrategicMerge, ...rest }) => ({ ...rest, patches: (patchesStrategicMerge as string[]).map((p) => ({ path: p })) }));
      }
      assert.deepEqual(comparable(parseYamlDocuments(files[file], file)), comparable(expected), file);
    }
  });

  it("every overlay builds, with the tenant's own path among them", async function () {
    requireKubectl(this);
    const tenant = { ...(await stackConfig("staging")).tenants[0], path: "./clusters/eu-staging" };
    const files = renderTenantStarter(tenant);
    const dir = writeTemp(files);
    try {
      for (const overlay of ["staging", "production", "clusters/eu-staging"]) {
        const built = kustomizeBuild(path.join(dir, overlay)) as Record<string, any>[];
        const release = built.find((o) => o.kind === "HelmRelease")!;
        assert.equal(release.spec.serviceAccountName, "dev-team", overlay);
        assert.equal(release.metadata.namespace, "apps", overlay);
        assert.ok(release.spec.chart.spec.version, overlay);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
