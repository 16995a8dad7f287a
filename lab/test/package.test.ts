// The FluxFleet package consumed as Pulumi users consume a source-based package: a Pulumi YAML program names this
// directory under `packages`, the real CLI runs it with Pulumi's YAML language host, and the plugin (PulumiPlugin.yaml,
// run by the lab's Node.js language host) constructs the component on the lab's cluster and Git server.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as path from "path";
import { randomBytes } from "crypto";
import { stringify } from "yaml";
import { buildOnDemand } from "../build";
import { labInstallManifest } from "../fluxRelease";
import { authorize } from "../lab";
import { PROJECT_DIR, RUN, runPath } from "../layout";
import { capturePulumi } from "../pulumi";
import type { LabState } from "../state";
import { kustomizationReady, registerAskedKeys } from "./engineStack";
import { getJson, kubectl, lab, remoteFiles, Repo, sshKeyPair, tempDir, timings } from "./support";
import { plainTenantFiles } from "./tenants";

const ENV = "lab";
// Tenants of this suite alone: the engine suites leave their tenants' namespaces (a destroy keeps workloads running).
const TENANTS = ["pkg-a", "pkg-b"];

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

describe("the FluxFleet package from a Pulumi YAML program (pulumi-language-yaml), on the lab's cluster and Git server", function () {
  const id = randomBytes(3).toString("hex");
  const stack = `yaml-${id}`;
  const keys = tempDir("package-keys");
  const workspace = runPath(RUN.pulumi, "projects", `yaml-consumer-${id}`);
  const tenantRepos: Repo[] = [];
  let state: LabState;
  let yamlHost: string;

  const url = (repo: string) => `${state.git.url}/${repo}-${id}.git`;
  // The stack's flag before a `--` that ends the flags (a value may start with a dash).
  const pulumi = (...args: string[]) => {
    const end = args.indexOf("--") < 0 ? args.length : args.indexOf("--");
    // The package's resources are dynamic providers: Pulumi's host for them starts in this program's directory, which
    // has no node_modules; NODE_PATH names the package's, as the README asks of a consumer.
    return capturePulumi(state, workspace, [...args.slice(0, end), "--stack", stack, ...args.slice(end)], undefined, [yamlHost], {
      NODE_PATH: path.join(PROJECT_DIR, "node_modules"),
    });
  };
  async function ok(...args: string[]): Promise<string> {
    const r = await pulumi(...args);
    if (r.code !== 0) assert.fail(`pulumi ${args.join(" ")} exited ${r.code}:\n${r.output}`);
    return r.output;
  }

  before(async function () {
    state = lab().state;
    yamlHost = path.dirname((await buildOnDemand("pulumiyaml", (line) => console.log(`  ${line}`)))["pulumi-language-yaml"]);
    for (const name of TENANTS) {
      const repo = new Repo(state, `${name}-${id}`);
      await repo.commit(plainTenantFiles(name, ENV), `${name}: lab workloads`);
      tenantRepos.push(repo);
    }
    const pushKey = await sshKeyPair(keys, "fleet-push");
    await authorize(state, pushKey.publicKeyFile);
    const manifest = await labInstallManifest();
    // A program of a platform team's own: its cluster's kubeconfig and the fleet's push key are its secrets.
    fs.mkdirSync(workspace, { recursive: true });
    fs.writeFileSync(
      path.join(workspace, "Pulumi.yaml"),
      stringify({
        name: "fleet-consumer",
        runtime: "yaml",
        packages: { "flux-multi-tenancy": PROJECT_DIR },
        config: { kubeconfig: { type: "string", secret: true }, fleetSshKey: { type: "string", secret: true } },
        resources: {
          platform: {
            type: "flux-multi-tenancy:index:FluxFleet",
            properties: {
              kubeconfig: "${kubeconfig}",
              fleetSshKey: "${fleetSshKey}",
              environment: ENV,
              flux: { manifests: manifest.file },
              fleet: { provider: "git", url: url("fleet") },
              policies: { engine: "vap", allowedSourcePrefixes: [`${state.git.url}/`] },
              tenants: TENANTS.map((name) => ({ name, repository: { url: url(name), deployKey: true } })),
              knownHosts: fs.readFileSync(state.git.knownHosts, "utf8"),
            },
          },
        },
        outputs: { fleetRevision: "${platform.fleetRevision}", tenants: "${platform.tenants}", fleetPublicKey: "${platform.fleetPublicKey}" },
      }),
    );
    await ok("stack", "init", "--secrets-provider", "passphrase");
    await ok("config", "set", "--secret", "kubeconfig", "--", fs.readFileSync(state.kubeconfigs.admin, "utf8"));
    await ok("config", "set", "--secret", "fleetSshKey", "--", pushKey.privateKey);
  });

  after(async function () {
    this.timeout(300_000);
    if (fs.existsSync(path.join(workspace, `Pulumi.${stack}.yaml`))) {
      await pulumi("destroy", "--yes", "--skip-preview");
      await pulumi("stack", "rm", "--yes", "--force");
    }
    for (const r of tenantRepos) r.remove();
    fs.rmSync(keys, { recursive: true, force: true });
    fs.rmSync(workspace, { recursive: true, force: true });
  });

  it("up: the first stops naming the keys to register (outputs of FluxFleet platform); registered, the next brings every Kustomization to Ready", async () => {
    let t = Date.now();
    const first = await pulumi("up", "--yes", "--skip-preview");
    const firstS = Date.now() - t;
    assert.notEqual(first.code, 0, "up stops while Flux cannot read with keys nobody registered");
    assert.match(
      first.output,
      /Register these public keys, read-only, on their Git hosts \(outputs of FluxFleet platform fleetPublicKey and tenantPublicKeys\)/,
    );
    const asked = await registerAskedKeys(state, keys, first.output);
    assert.deepEqual(Object.keys(asked).sort(), [url("fleet"), ...TENANTS.map(url)].sort());
    t = Date.now();
    await ok("up", "--yes", "--skip-preview");
    timings["package (YAML): up"] = `${seconds(firstS + Date.now() - t)} (${seconds(firstS)} to the keys to register, ${seconds(Date.now() - t)} after)`;
    const out = JSON.parse(await ok("stack", "output", "--json")) as { fleetRevision: string; tenants: unknown };
    assert.match(out.fleetRevision, /^main@sha1:[0-9a-f]{40}$/);
    assert.deepEqual(out.tenants, Object.fromEntries(TENANTS.map((t) => [t, { repositoryUrl: url(t), namespace: t }])));
    for (const name of ["flux-system", "admission-policies", "tenants"]) {
      assert.equal((await kustomizationReady(state, "flux-system", name)).status?.lastAppliedRevision, out.fleetRevision, name);
    }
    for (const name of TENANTS) {
      await kustomizationReady(state, name, name);
      assert.ok(await getJson(state, ["deployment", "-n", name, "web"]), `${name}'s workload`);
    }
    // The component's children are named after it: a program can hold more than one.
    const urns = (JSON.parse(await ok("stack", "export")) as { deployment: { resources: { urn: string }[] } }).deployment.resources.map((r) => r.urn);
    assert.ok(urns.some((u) => u.endsWith("flux-multi-tenancy:index:FluxFleet::platform")));
    for (const n of ["platform-fleet", "platform-flux", ...TENANTS.map((t) => `platform-tenant-${t}`)])
      assert.ok(
        urns.some((u) => u.endsWith(`::${n}`)),
        n,
      );
  });

  it("destroy: no Flux CRD, no flux-system, nothing Terminating, the stack's files gone from the fleet", async () => {
    const t = Date.now();
    await ok("destroy", "--yes", "--skip-preview");
    timings["package (YAML): destroy"] = seconds(Date.now() - t);
    assert.deepEqual(
      (await kubectl(state, ["get", "crd", "-o", "name"])).split("\n").filter((c) => c.includes("toolkit.fluxcd.io")),
      [],
    );
    assert.equal(await getJson(state, ["namespace", "flux-system"]), undefined);
    const phases = await kubectl(state, ["get", "namespaces", "-o", 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}']);
    assert.deepEqual(
      phases.split("\n").filter((l) => l && !l.endsWith("=Active")),
      [],
    );
    assert.deepEqual([...(await remoteFiles(state, `fleet-${id}`)).keys()], []);
  });
});
