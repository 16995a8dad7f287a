import { strict as assert } from "assert";
import * as fs from "fs";
import { gotkComponentsHeader, InstallManifestError, parseYamlDocuments, renderGotkComponents } from "../manifests";
import { ALL_COMPONENTS, fluxFixture, requirePath, syntheticInstallManifest } from "./helpers";

const DEFAULT = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];
const opts = (version: string, components: string[]) => ({ version, components, source: "install.yaml", key: "flux-multi-tenancy:flux.version" });

function componentsOf(text: string): (string | undefined)[] {
  return parseYamlDocuments(text, "x").map((d) => (d as { metadata: { labels?: Record<string, string> } }).metadata.labels?.["app.kubernetes.io/component"]);
}

describe("gotk-components.yaml", () => {
  for (const version of ["v2.9.4", "v2.7.5"]) {
    it(`is byte-identical to what flux bootstrap committed for ${version}`, function () {
      const file = requirePath(this, fluxFixture(`gotk-components-${version}.yaml`), `the Flux ${version} fixture`);
      const text = fs.readFileSync(file, "utf8");
      assert.equal(renderGotkComponents(text, opts(version, DEFAULT)), text);
    });
  }

  it("keeps shared objects and only the chosen components, header naming them", () => {
    const chosen = [...DEFAULT, "image-reflector-controller"];
    const out = renderGotkComponents(syntheticInstallManifest("v2.9.4"), opts("v2.9.4", chosen));
    assert.ok(out.startsWith(`---\n${gotkComponentsHeader("v2.9.4", chosen)}apiVersion: v1\nkind: Namespace\n`));
    assert.equal(gotkComponentsHeader("v2.9.4", chosen).split("\n").length, 4, "three header lines");
    const present = new Set(componentsOf(out));
    assert.deepEqual([...present].sort(), [undefined, ...chosen].sort());
    assert.ok(!present.has("image-automation-controller") && !present.has("source-watcher"));
  });

  it("drops a previous header instead of repeating it", () => {
    const once = renderGotkComponents(syntheticInstallManifest(), opts("v2.9.4", DEFAULT));
    assert.equal(renderGotkComponents(once, opts("v2.9.4", DEFAULT)), once);
  });

  it("refuses a manifest of another release, naming both versions", () => {
    assert.throws(
      () => renderGotkComponents(syntheticInstallManifest("v2.7.5"), opts("v2.9.4", DEFAULT)),
      (e: Error) => {
        assert.ok(e instanceof InstallManifestError);
        assert.equal(
          e.message,
          "flux-multi-tenancy:flux.version: install.yaml is Flux v2.7.5 but flux.version is v2.9.4; use the install manifest of v2.9.4, or set flux.version to v2.7.5.",
        );
        return true;
      },
    );
  });

  it("refuses a manifest that lacks a chosen component", () => {
    const text = syntheticInstallManifest("v2.9.4", DEFAULT);
    assert.throws(() => renderGotkComponents(text, opts("v2.9.4", [...DEFAULT, "source-watcher"])), {
      message: `flux-multi-tenancy:flux.version: install.yaml has no source-watcher (it holds ${DEFAULT.join(", ")}); use the release's full install.yaml, or drop source-watcher from flux.components/flux.componentsExtra.`,
    });
  });

  it("refuses a file that is not a Flux install manifest", () => {
    assert.throws(() => renderGotkComponents("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n", opts("v2.9.4", DEFAULT)), {
      message:
        "flux-multi-tenancy:flux.version: install.yaml has no flux-system Namespace, so it is not a Flux install manifest; point flux-multi-tenancy:flux.version at Flux's install.yaml for v2.9.4.",
    });
    assert.throws(() => renderGotkComponents("a: [", opts("v2.9.4", DEFAULT)), InstallManifestError);
  });

  it("all seven components of a full install manifest can be chosen", () => {
    const out = renderGotkComponents(syntheticInstallManifest(), opts("v2.9.4", ALL_COMPONENTS));
    assert.equal(componentsOf(out).filter((c) => c !== undefined).length, ALL_COMPONENTS.length * 2);
  });
});
