import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { main, renderStack } from "../render";
import { fluxFixture, localManifest, PROJECT_DIR, requirePath, syntheticInstallManifest } from "./helpers";

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Runs main() and returns its exit code and what it printed. */
async function run(argv: string[], projectDir = PROJECT_DIR): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await main(argv, projectDir);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

describe("render command", () => {
  let tmp: string;
  let manifest: string;
  /** A local manifest the program has no pins for (synthetic): given with its SHA-256, as a user gives one they checked. */
  let given: string[];
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "render-"));
    manifest = path.join(tmp, "install.yaml");
    fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
    given = ["--flux-manifests", manifest, "--flux-manifests-sha256", localManifest(manifest).manifestsSha256];
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("writes exactly the tree the program renders, offline from a local manifest", async () => {
    const out = path.join(tmp, "out");
    const result = await run(["--stack", "staging", "--out", out, ...given]);
    assert.equal(result.code, 0, result.err);
    const { tree } = await renderStack({
      stack: "staging",
      projectDir: PROJECT_DIR,
      fluxManifests: manifest,
      fluxManifestsSha256: localManifest(manifest).manifestsSha256,
    });
    assert.deepEqual(listFiles(out), Object.keys(tree).sort());
    for (const [file, text] of Object.entries(tree)) assert.equal(fs.readFileSync(path.join(out, file), "utf8"), text, file);
    assert.equal(result.out, `rendered ${Object.keys(tree).length} files for stack staging (Flux v2.9.4 from ${manifest}) into ${out}`);
  });

  it("npm run render works as the README says, with the real Flux manifest", function () {
    const real = requirePath(this, fluxFixture("gotk-components-v2.9.4.yaml"), "the Flux v2.9.4 fixture");
    const out = path.join(tmp, "x");
    execFileSync("npm", ["run", "--silent", "render", "--", "--stack", "production", "--out", out, "--flux-manifests", real], {
      cwd: PROJECT_DIR,
      stdio: "pipe",
    });
    assert.equal(fs.readFileSync(path.join(out, "clusters/production/flux-system/gotk-components.yaml"), "utf8"), fs.readFileSync(real, "utf8"));
    assert.ok(fs.existsSync(path.join(out, "tenants/production/dev-team-patch.yaml")));
  });

  it("bad config: exit 1, one message, nothing written", async () => {
    const project = path.join(tmp, "project");
    fs.mkdirSync(project);
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    fs.writeFileSync(
      path.join(project, "Pulumi.bad.yaml"),
      "config:\n  flux-multi-tenancy:fleet:\n    owner: my-org\n  flux-multi-tenancy:policies:\n    engine: none\n  flux-multi-tenancy:tenants:\n    - name: Dev_Team\n",
    );
    const out = path.join(tmp, "out");
    const result = await run(["--stack", "bad", "--out", out, ...given], project);
    assert.equal(result.code, 1);
    assert.equal(
      result.err,
      `render: flux-multi-tenancy:tenants[0].name: "Dev_Team" is not a DNS-1123 label; use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit.`,
    );
    assert.equal(fs.existsSync(out), false);
  });

  it("a manifest of another Flux release: exit 1, nothing written", async () => {
    fs.writeFileSync(manifest, syntheticInstallManifest("v2.7.5"));
    const out = path.join(tmp, "out");
    const result = await run(["--stack", "staging", "--out", out, "--flux-manifests", manifest]);
    assert.equal(result.code, 1);
    assert.match(result.err, /^render: flux-multi-tenancy:flux\.manifests: .* is Flux v2\.7\.5 but flux\.version is v2\.9\.4;/);
    assert.equal(fs.existsSync(out), false);
  });

  it("a local manifest that is not the release (no digest given, none pinned that it matches): exit 1, nothing written", async () => {
    const out = path.join(tmp, "out");
    const result = await run(["--stack", "staging", "--out", out, "--flux-manifests", manifest]);
    assert.equal(result.code, 1);
    assert.match(result.err, /^render: flux-multi-tenancy:flux\.manifests: .* is not Flux v2\.9\.4 as released: /);
    assert.equal(fs.existsSync(out), false);
  });

  it("an unknown stack names the missing stack file", async () => {
    const result = await run(["--stack", "nope", "--out", path.join(tmp, "out"), "--flux-manifests", manifest]);
    assert.equal(result.code, 1);
    assert.equal(
      result.err,
      `render: cannot read ${path.join(PROJECT_DIR, "Pulumi.nope.yaml")} (ENOENT); run from the project directory and name an existing stack.`,
    );
  });

  it("refuses a non-empty output directory unless --clean, which replaces its content", async () => {
    const out = path.join(tmp, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "stale.yaml"), "old");
    const refused = await run(["--stack", "staging", "--out", out, ...given]);
    assert.equal(refused.code, 1);
    assert.equal(refused.err, `render: --out ${out} is not empty; choose an empty directory, or add --clean to replace its content.`);
    assert.ok(fs.existsSync(path.join(out, "stale.yaml")));
    const cleaned = await run(["--stack", "staging", "--out", out, ...given, "--clean"]);
    assert.equal(cleaned.code, 0, cleaned.err);
    assert.ok(!fs.existsSync(path.join(out, "stale.yaml")));
    assert.ok(fs.existsSync(path.join(out, "clusters/staging/tenants.yaml")));
  });

  it("usage errors exit 2", async () => {
    assert.equal((await run(["--stack", "staging"])).code, 2);
    assert.equal((await run(["--stak", "staging", "--out", "x"])).code, 2);
  });
});
