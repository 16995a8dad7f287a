// The lab's pins, offline: the kube replace block's generator, version ldflags, and the committed go.mod files against the pinned Flux release.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { controllerVersions } from "../lab/fluxRelease";
import { kubeLdflags, stagingReplaces } from "../lab/gomod";
import { fluxFixture, PROJECT_DIR, requirePath, syntheticInstallManifest } from "./helpers";

const goMod = (family: string) => fs.readFileSync(path.join(PROJECT_DIR, "lab", "go", family, "go.mod"), "utf8");

/** `module version` of every require line (block or single) of a go.mod text. */
function requires(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^\s*(?:require\s+)?([a-z0-9.\-/]+\.[a-z]+\/\S+)\s+(v\S+)(?:\s*\/\/.*)?$/gm)) out.set(m[1], m[2]);
  return out;
}

describe("lab: pins", () => {
  it("maps every ./staging replace of a Kubernetes tag to its published v0 release", () => {
    const tag = [
      "module k8s.io/kubernetes",
      "replace (",
      "\tk8s.io/api => ./staging/src/k8s.io/api",
      "\tk8s.io/client-go => ./staging/src/k8s.io/client-go",
      ")",
      "replace k8s.io/kms => ./staging/src/k8s.io/kms",
      "replace github.com/x/y => github.com/x/y v1.0.0",
    ].join("\n");
    assert.deepEqual(
      [...stagingReplaces(tag, "v1.36.3")],
      [
        ["k8s.io/api", "v0.36.3"],
        ["k8s.io/client-go", "v0.36.3"],
        ["k8s.io/kms", "v0.36.3"],
      ],
    );
    assert.throws(() => stagingReplaces(tag, "v1.36.0-rc.1"), /is not a release version/);
    assert.throws(() => stagingReplaces("module k8s.io/kubernetes\n", "v1.36.3"), /has no \.\/staging replace lines/);
  });

  it("the committed kube module replaces each staging module with the release of its pinned Kubernetes", () => {
    const text = goMod("kube");
    const kube = requires(text).get("k8s.io/kubernetes");
    assert.ok(kube, "lab/go/kube/go.mod requires k8s.io/kubernetes");
    const staging = `v0.${kube.slice(3)}`;
    const replaces = [...text.matchAll(/^\s*(k8s\.io\/\S+) => (\S+) (\S+)$/gm)];
    assert.ok(replaces.length >= 30, `a replace per staging module (${replaces.length})`);
    for (const [, from, to, version] of replaces) assert.deepEqual([to, version], [from, staging], from);
  });

  it("stamps the Kubernetes version into the binaries", () => {
    assert.deepEqual(kubeLdflags({ "k8s.io/kubernetes": "v1.36.3" }).slice(0, 4), [
      "-X k8s.io/component-base/version.gitVersion=v1.36.3",
      "-X k8s.io/component-base/version.gitMajor=1",
      "-X k8s.io/component-base/version.gitMinor=36",
      "-X k8s.io/component-base/version.gitTreeState=clean",
    ]);
    assert.throws(() => kubeLdflags({}), /cannot derive version flags/);
  });

  it("reads the controllers' versions from an install manifest's images", () => {
    assert.deepEqual(controllerVersions(syntheticInstallManifest("v2.9.4", ["source-controller", "helm-controller"])), {
      "source-controller": "v0.0.0",
      "helm-controller": "v0.0.0",
    });
  });

  it("the committed Flux modules build exactly the controllers Flux v2.9.4 runs", function () {
    const file = requirePath(this, fluxFixture("gotk-components-v2.9.4.yaml"), "the Flux v2.9.4 fixture");
    const release = controllerVersions(fs.readFileSync(file, "utf8"));
    assert.deepEqual(release, {
      "source-controller": "v1.9.4",
      "kustomize-controller": "v1.9.4",
      "helm-controller": "v1.6.3",
      "notification-controller": "v1.9.3",
    });
    const pinned = new Map([...requires(goMod("flux")), ...requires(goMod("helm"))]);
    for (const [name, version] of Object.entries(release)) assert.equal(pinned.get(`github.com/fluxcd/${name}`), version, name);
  });

  it("the committed sops module builds the sops kustomize-controller decrypts with", () => {
    const sops = "github.com/getsops/sops/v3";
    assert.equal(requires(goMod("sops")).get(sops), requires(goMod("flux")).get(sops));
    assert.equal(requires(goMod("sops")).get(sops), "v3.13.2");
  });
});
