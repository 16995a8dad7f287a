import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { InstallManifestUnavailable, loadInstallManifest, releaseUrl } from "../lib/fluxRelease";
import { syntheticInstallManifest } from "./helpers";

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
      const first = await loadInstallManifest({ version: "v2.9.4", manifests: "" }, { cacheDir, baseUrl: server.baseUrl });
      assert.equal(first.text, text);
      assert.equal(first.source, `${server.baseUrl}/v2.9.4/install.yaml`);
      const second = await loadInstallManifest({ version: "v2.9.4", manifests: "" }, { cacheDir, baseUrl: server.baseUrl });
      assert.equal(second.text, text);
      assert.equal(second.source, path.join(cacheDir, "flux", "v2.9.4", "install.yaml"));
      assert.deepEqual(server.requests, ["/releases/v2.9.4/install.yaml"]);
    } finally {
      await server.close();
    }
  });

  it("reads a local manifest without any network", async () => {
    const file = path.join(cacheDir, "install.yaml");
    fs.writeFileSync(file, "local");
    const got = await loadInstallManifest({ version: "v2.9.4", manifests: "install.yaml" }, { cacheDir, baseDir: cacheDir, baseUrl: "http://127.0.0.1:9" });
    assert.deepEqual(got, { text: "local", source: file });
  });

  it("says how to work offline when neither a download nor a cached copy exists", async () => {
    const server = await releaseServer({});
    try {
      await assert.rejects(loadInstallManifest({ version: "v2.9.4", manifests: "" }, { cacheDir, baseUrl: server.baseUrl }), (e: Error) => {
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
    await assert.rejects(loadInstallManifest({ version: "v2.9.4", manifests: "missing.yaml" }, { baseDir: cacheDir }), {
      message: `flux-multi-tenancy:flux.manifests: cannot read "missing.yaml" (ENOENT); give the path of Flux's install.yaml for v2.9.4, or set it to "" to download https://github.com/fluxcd/flux2/releases/download/v2.9.4/install.yaml.`,
    });
  });
});
