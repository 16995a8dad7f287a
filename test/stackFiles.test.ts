// Reading Pulumi.yaml and a stack file as the Pulumi CLI hands config to the program.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readStackConfig } from "../lib/stackFiles";
import { renderStack } from "../render";

describe("stack files", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-files-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes project defaults (default: or value:), lets the stack replace whole keys, and leaves other namespaces out", async () => {
    fs.writeFileSync(
      path.join(dir, "Pulumi.yaml"),
      [
        "name: flux-multi-tenancy",
        "runtime: nodejs",
        "config:",
        "  pulumi:disable-default-providers: [kubernetes]",
        "  environment: { type: string, default: '' }",
        "  fleet: { default: { owner: a, branch: main } }",
        "  policies: { value: { engine: none } }",
        "",
      ].join("\n"),
    );
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config:\n  github:token: x\n  flux-multi-tenancy:fleet:\n    owner: b\n");
    const { project, raw } = await readStackConfig(dir, "dev");
    assert.equal(project, "flux-multi-tenancy");
    assert.deepEqual(raw, { environment: "", fleet: { owner: "b" }, policies: { engine: "none" } });
  });

  it("render refuses a secret it would need, since it reads no secrets", async () => {
    fs.copyFileSync(path.join(__dirname, "..", "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.dev.yaml"),
      "config:\n  flux-multi-tenancy:fleet:\n    secure: v1:abc\n  flux-multi-tenancy:kubeconfig:\n    secure: v1:def\n",
    );
    await assert.rejects(renderStack({ stack: "dev", projectDir: dir }), {
      message: "flux-multi-tenancy:fleet is a secret in Pulumi.dev.yaml; render reads no secrets, so set it as a plain value.",
    });
  });
});
