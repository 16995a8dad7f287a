import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { DEFAULTS } from "../config";
import { InstallManifestUnavailable, loadInstallManifest, type ManifestChoice, releaseUrl } from "../lib/fluxRelease";
import { PINNED_OBJECT_DIGESTS, PINNED_RELEASE_DIGESTS } from "../manifests/fluxDigests";
import { InstallManifestError, objectDigests } from "../manifests/fluxInstall";
import { ALL_COMPONENTS, fluxFixture, requirePath, syntheticInstallManifest } from "./helpers";

/** flux config choosing `version` from `manifests` ("" downloads), default components. */
const choice = (version: string, manifests: string, extra: Partial<ManifestChoice> = {}): ManifestChoice => ({
  ...DEFAULTS.flux,
  version,
  manifests,
  ...extra,
});

/** Pins made from a manifest, as the program's are made from the releases' real objects. */
function pinsOf(version: string, text: string): Record<string, Record<string, string>> {
  return { [version]: Object.fromEntries([...objectDigests(text)].map(([k, v]) => [k, v.sha256])) };
}

/** A release server on loopback that counts its requests. */
async function releaseServer(files: Record<string, string>) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? "");
    const body = files[req.url ?? ""];
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "text/yaml" });
    res.end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/releases`, requests, close: () => new Promise((r) => server.close(r)) };
}

describe("Flux install manifest source", () => {
  let cacheDir: string;
  beforeEach(() => (cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "flux-cache-"))));
  afterEach(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

  it("follows the release URL pattern of fluxcd/flux2", () => {
    assert.equal(releaseUrl("v2.9.4"), "https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml");
  });

  it("downloads the pinned release once, then reads it from the cache", async () => {
    const text = syntheticInstallManifest("v2.9.4");
    const server = await releaseServer({ "/releases/v2.9.4/install.yaml": text });
    try {
      const pins = pinsOf("v2.9.4", text);
      const first = await loadInstallManifest(choice("v2.9.4", ""), { cacheDir, baseUrl: server.baseUrl, pins });
      assert.equal(first.text, text);
      assert.equal(first.source, `${server.baseUrl}/v2.9.4/install.yaml`);
      const second = await loadInstallManifest(choice("v2.9.4", ""), { cacheDir, baseUrl: server.baseUrl, pins });
      assert.equal(second.text, text);
      assert.equal(second.source, path.join(cacheDir, "flux", "v2.9.4", "install.yaml"));
      assert.deepEqual(server.requests, ["/releases/v2.9.4/install.yaml"]);
    } finally {
      await server.close();
    }
  });

  it("reads a local manifest without any network", async () => {
    const file = path.join(cacheDir, "install.yaml");
    const text = syntheticInstallManifest("v2.9.4");
    fs.writeFileSync(file, text);
    const got = await loadInstallManifest(choice("v2.9.4", "install.yaml"), {
      cacheDir,
      baseDir: cacheDir,
      baseUrl: "http://127.0.0.1:9",
      pins: pinsOf("v2.9.4", text),
    });
    assert.deepEqual(got, { text, source: file });
  });

  it("the install manifest is trusted by its digests, not its label: a download, a cached copy and a given file are each checked", async () => {
    const text = syntheticInstallManifest("v2.9.4");
    const pins = pinsOf("v2.9.4", text);
    // The same release label, one flag changed in one controller.
    const tampered = text.replace("- --watch-all-namespaces=true", "- --watch-all-namespaces=true\n        - --no-remote-bases=false");
    assert.notEqual(tampered, text);
    const server = await releaseServer({ "/releases/v2.9.4/install.yaml": tampered });
    const differs = (source: string, key: string) => (e: Error) => {
      assert.ok(e instanceof InstallManifestError);
      assert.match(
        e.message,
        new RegExp(
          `^${key}: ${source.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not Flux v2\\.9\\.4 as released: Deployment/flux-system/\\S+ differ from the release's objects \\(pinned SHA-256\\)`,
        ),
      );
      return true;
    };
    try {
      await assert.rejects(
        loadInstallManifest(choice("v2.9.4", ""), { cacheDir, baseUrl: server.baseUrl, pins }),
        differs(`${server.baseUrl}/v2.9.4/install.yaml`, "flux-multi-tenancy:flux.version"),
      );
      assert.deepEqual(fs.readdirSync(cacheDir), [], "a download that does not match is not cached");
      const cached = path.join(cacheDir, "flux", "v2.9.4", "install.yaml");
      fs.mkdirSync(path.dirname(cached), { recursive: true });
      fs.writeFileSync(cached, tampered);
      await assert.rejects(
        loadInstallManifest(choice("v2.9.4", ""), { cacheDir, baseUrl: server.baseUrl, pins }),
        differs(cached, "flux-multi-tenancy:flux.version"),
      );
      const given = path.join(cacheDir, "given.yaml");
      fs.writeFileSync(given, tampered);
      await assert.rejects(loadInstallManifest(choice("v2.9.4", given), { cacheDir, pins }), differs(given, "flux-multi-tenancy:flux.manifests"));
    } finally {
      await server.close();
    }
  });

  it("an unknown release needs its digest in config, which the file's bytes must match", async () => {
    const file = path.join(cacheDir, "install.yaml");
    const text = syntheticInstallManifest("v2.9.9");
    fs.writeFileSync(file, text);
    await assert.rejects(loadInstallManifest(choice("v2.9.9", file), { cacheDir, pins: {} }), {
      message: `flux-multi-tenancy:flux.manifestsSha256: Flux v2.9.9 has no digests pinned in this program for the bootstrap form (it pins none), so ${file} cannot be checked; set flux.manifestsSha256 to the SHA-256 of that release's install.yaml (the release's flux_2.9.9_checksums.txt lists it).`,
    });
    const sha = createHash("sha256").update(text).digest("hex");
    assert.equal((await loadInstallManifest(choice("v2.9.9", file, { manifestsSha256: sha }), { cacheDir, pins: {} })).text, text);
    const wrong = "0".repeat(64);
    await assert.rejects(loadInstallManifest(choice("v2.9.9", file, { manifestsSha256: wrong }), { cacheDir, pins: {} }), {
      message: `flux-multi-tenancy:flux.manifestsSha256: ${file} has SHA-256 ${sha}, not ${wrong}: it is not the manifest you checked; get Flux v2.9.9's install.yaml again and compare it with the release's checksums file, or correct flux.manifestsSha256.`,
    });
    // A manifest of another release is named as such, before any digest.
    await assert.rejects(loadInstallManifest(choice("v2.9.4", file), { cacheDir }), /is Flux v2\.9\.9 but flux\.version is v2\.9\.4/);
  });

  it("the release's install.yaml carries no release label: it is checked against the release form's digests", async () => {
    // The release form as Flux publishes it: no app.kubernetes.io/version label anywhere, cluster-wide names unsuffixed.
    const text = syntheticInstallManifest("v2.9.4")
      .replace(/^ {4}app\.kubernetes\.io\/version: .*\n/gm, "")
      .replace("crd-controller-flux-system", "crd-controller");
    const file = path.join(cacheDir, "install.yaml");
    fs.writeFileSync(file, text);
    const releasePins = pinsOf("v2.9.4", text);
    assert.equal((await loadInstallManifest(choice("v2.9.4", file), { cacheDir, pins: {}, releasePins })).text, text);
    // The bootstrap form's digests do not stand for it, nor it for them.
    await assert.rejects(loadInstallManifest(choice("v2.9.4", file), { cacheDir, pins: pinsOf("v2.9.4", text), releasePins: {} }), {
      message: `flux-multi-tenancy:flux.manifestsSha256: Flux v2.9.4 has no digests pinned in this program for the install.yaml form (no release label) (it pins none), so ${file} cannot be checked; set flux.manifestsSha256 to the SHA-256 of that release's install.yaml (the release's flux_2.9.4_checksums.txt lists it).`,
    });
    fs.writeFileSync(file, text.replace("--watch-all-namespaces=true", "--watch-all-namespaces=false"));
    await assert.rejects(
      loadInstallManifest(choice("v2.9.4", file), { cacheDir, releasePins }),
      /is not Flux v2\.9\.4 as released: Deployment\/flux-system\/source-controller differ/,
    );
  });

  it("Flux v2.9.4's install.yaml form is pinned for every component: none of its objects is the bootstrap form's", () => {
    const release = PINNED_RELEASE_DIGESTS["v2.9.4"];
    for (const c of ALL_COMPONENTS) assert.ok(release[`Deployment/flux-system/${c}`], `${c}'s Deployment pinned`);
    assert.ok(release["ClusterRole//crd-controller"] && !release["ClusterRole//crd-controller-flux-system"]);
    const bootstrap = new Set(Object.values(PINNED_OBJECT_DIGESTS["v2.9.4"]));
    assert.deepEqual(
      Object.entries(release).filter(([, sha]) => bootstrap.has(sha)),
      [],
    );
  });

  for (const version of ["v2.9.4", "v2.7.5"]) {
    it(`the pinned digests are the objects of Flux ${version} as flux bootstrap wrote them (the real manifest passes; extras need a digest)`, async function () {
      const file = requirePath(this, fluxFixture(`gotk-components-${version}.yaml`), `the Flux ${version} fixture`);
      const text = fs.readFileSync(file, "utf8");
      assert.deepEqual(pinsOf(version, text), { [version]: PINNED_OBJECT_DIGESTS[version] });
      assert.equal((await loadInstallManifest(choice(version, file), { cacheDir })).text, text);
      const extras = text.replace(/app\.kubernetes\.io\/component: helm-controller/g, "app.kubernetes.io/component: source-watcher");
      fs.writeFileSync(path.join(cacheDir, "x.yaml"), extras);
      await assert.rejects(
        loadInstallManifest(
          choice(version, path.join(cacheDir, "x.yaml"), {
            components: ["source-controller", "kustomize-controller", "notification-controller"],
            componentsExtra: ["source-watcher"],
          }),
          { cacheDir },
        ),
        /^InstallManifestError: flux-multi-tenancy:flux\.manifestsSha256: .* holds objects this program has no digest of for Flux v\d\.\d\.\d \(|is not Flux .* as released/,
      );
    });
  }

  it("says how to work offline when neither a download nor a cached copy exists", async () => {
    const server = await releaseServer({});
    try {
      await assert.rejects(loadInstallManifest(choice("v2.9.4", ""), { cacheDir, baseUrl: server.baseUrl }), (e: Error) => {
        assert.ok(e instanceof InstallManifestUnavailable);
        assert.equal(
          e.message,
          `flux-multi-tenancy:flux.version: cannot download ${server.baseUrl}/v2.9.4/install.yaml (HTTP 404) and no copy is cached at ${path.join(cacheDir, "flux", "v2.9.4", "install.yaml")}; on a machine without network set flux-multi-tenancy:flux.manifests (or --flux-manifests for render) to a local copy of that file.`,
        );
        return true;
      });
    } finally {
      await server.close();
    }
    assert.deepEqual(fs.readdirSync(cacheDir), [], "nothing cached after a failed download");
  });

  it("names the missing local file and the alternative", async () => {
    await assert.rejects(loadInstallManifest(choice("v2.9.4", "missing.yaml"), { baseDir: cacheDir }), {
      message: `flux-multi-tenancy:flux.manifests: cannot read "missing.yaml" (ENOENT); give the path of Flux's install.yaml for v2.9.4, or set it to "" to download https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml.`,
    });
  });
});
