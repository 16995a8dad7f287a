// The Pulumi program under mocks: config is validated before anything is registered.
import { registered, setStackConfig } from "./mocks";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { stackRaw, syntheticInstallManifest } from "./helpers";
import program = require("../index");

describe("Pulumi program", () => {
  let manifest: string;
  before(() => {
    manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "program-")), "install.yaml");
    fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
  });
  beforeEach(() => registered.splice(0));

  it("reads the staging stack through pulumi.Config and renders its fleet tree", async () => {
    const raw = await stackRaw("staging");
    setStackConfig({ ...raw, flux: { manifests: manifest } });
    const outputs = await program();
    assert.equal(outputs.environment, "staging");
    assert.equal(outputs.fluxVersion, "v2.9.4");
    assert.ok((outputs.fleetFiles as string[]).includes("tenants/base/dev-team/sync.yaml"));
  });

  it("bad config fails as a RunError naming the key, before any resource is registered", async () => {
    const raw = await stackRaw("staging");
    setStackConfig({ ...raw, flux: { manifests: manifest, version: "latest" } });
    await assert.rejects(program(), (e: Error) => {
      assert.ok(pulumi.RunError.isInstance(e));
      assert.equal(
        e.message,
        'invalid stack config:\nflux-multi-tenancy:flux.version: "latest" is not a pinned Flux release; use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved).',
      );
      return true;
    });
    assert.deepEqual(registered, []);
  });
});
