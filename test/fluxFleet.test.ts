// FluxFleet: the program's stacks keep their resources (aliases), a program of one's own gets the same fleet under its
// own names, bad args are refused before anything exists, and the package's plugin serves the schema its types make.
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { FluxFleet } from "../components";
import { type Registered, runProgram, runUnderMocks, valueOf } from "./mocks";
import { localManifest, stackRaw, syntheticInstallManifest } from "./helpers";

const ROOT = path.resolve(__dirname, "..");
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";
const PUSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

let manifest: string;
before(() => {
  manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fluxfleet-")), "install.yaml");
  fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
});

const TWO_TENANTS = () => ({
  environment: "staging",
  flux: localManifest(manifest),
  fleet: { provider: "git", url: "ssh://git@git.example.com/platform/fleet.git" },
  policies: { engine: "vap", allowedSourcePrefixes: ["ssh://git@git.example.com/"] },
  tenants: [
    { name: "team-a", repository: { url: "ssh://git@git.example.com/team-a/apps.git" }, receiver: "true" },
    { name: "team-b", repository: { url: "ssh://git@git.example.com/team-b/apps.git" }, receiver: "false" },
  ],
  knownHosts: "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFl0Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXk=",
});

describe("FluxFleet", () => {
  describe("in the program: a stack made before FluxFleet keeps every resource", () => {
    let resources: Registered[];
    before(async () => {
      const raw = structuredClone(await stackRaw("staging")) as Record<string, any>;
      raw.flux = { ...(raw.flux ?? {}), ...localManifest(manifest) };
      ({ resources } = await runProgram("staging", raw));
    });

    it("each child of the component keeps its name and is aliased to the stack's root, where it was; nothing else moves", () => {
      const fleet = resources.find((r) => r.type === "flux-multi-tenancy:index:FluxFleet");
      assert.ok(fleet, "the program builds one FluxFleet");
      const children = resources.filter((r) => r.parent === fleet.urn);
      assert.deepEqual(children.map((r) => r.name).sort(), ["fleet", "flux", "tenant-dev-team"]);
      for (const r of children) {
        const specs = r.aliases.map((a) => JSON.parse(a).spec);
        assert.ok(
          specs.some((s) => s.noparent === true && s.name === "" && s.type === ""),
          `${r.name}: no alias to the root (${r.aliases.join()})`,
        );
      }
      // Below them, URNs hold only the parent's type, which did not change: no alias is needed, and none is added.
      for (const r of resources.filter((x) => x.parent !== fleet.urn && x.parent !== "" && x.urn !== fleet.urn)) {
        assert.ok(
          r.aliases.every((a) => !JSON.parse(a).spec.noparent),
          `${r.name} aliased to the root`,
        );
      }
    });
  });

  describe("in a program of one's own", () => {
    let resources: Registered[];
    let fleet: FluxFleet;
    before(async () => {
      ({ resources, result: fleet } = await runUnderMocks(
        "dev",
        () => new FluxFleet("acme", { ...TWO_TENANTS(), kubeconfig: pulumi.secret(KUBECONFIG), fleetSshKey: pulumi.secret(PUSH_KEY) }),
      ));
    });

    it("names every child after the component, reaches the cluster through its kubeconfig, and aliases nothing", () => {
      const top = resources.filter((r) => r.parent === resources.find((x) => x.name === "acme")?.urn).map((r) => `${r.type} ${r.name}`);
      assert.deepEqual(top.sort(), [
        "flux-multi-tenancy:cluster:ExistingCluster acme-cluster",
        "flux-multi-tenancy:index:FluxBootstrap acme-flux",
        "flux-multi-tenancy:index:SshFleetRepository acme-fleet",
        "flux-multi-tenancy:index:Tenant acme-tenant-team-a",
        "flux-multi-tenancy:index:Tenant acme-tenant-team-b",
      ]);
      for (const r of resources) assert.ok(r.name === "acme" || r.name.startsWith("acme-"), r.name);
      assert.ok(resources.every((r) => r.aliases.every((a) => !a.includes('"noparent":true'))));
      const probe = resources.find((r) => r.name === "acme-cluster-probe");
      assert.ok(probe && probe.secretInputs.includes("kubeconfig"), "the cluster's API is waited for, with the kubeconfig secret");
      const k8s = resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
      assert.ok(k8s.length > 0);
      for (const r of k8s) assert.match(r.provider, /::acme-cluster-provider::/, r.name);
    });

    it("reports what the stack reports: the fleet's URL and key, each tenant's repository and namespace", async () => {
      assert.equal(await valueOf(fleet.fleetRepositoryUrl), "ssh://git@git.example.com/platform/fleet.git");
      assert.ok(fleet.fleetPublicKey, "a fleet on another Git host has a read key to register");
      assert.deepEqual(await valueOf(fleet.tenants), {
        "team-a": { repositoryUrl: "ssh://git@git.example.com/team-a/apps.git", namespace: "team-a" },
        "team-b": { repositoryUrl: "ssh://git@git.example.com/team-b/apps.git", namespace: "team-b" },
      });
      assert.equal(await valueOf(fleet.fluxVersion), "v2.9.4");
      assert.equal(await valueOf(fleet.clusterName), "staging");
    });

    it("reads receiver given as a word: team-a has a Receiver, team-b none", () => {
      assert.ok(resources.some((r) => r.name === "acme-tenant-team-a-receiver-token"));
      assert.ok(!resources.some((r) => r.name === "acme-tenant-team-b-receiver-token"));
    });
  });

  describe("refuses bad args before anything is registered", () => {
    const refused = async (args: Record<string, unknown>, expected: RegExp) => {
      let resources: Registered[] = [];
      await assert.rejects(async () => {
        ({ resources } = await runUnderMocks("dev", () => new FluxFleet("acme", { kubeconfig: KUBECONFIG, ...args } as never)));
      }, expected);
      assert.deepEqual(resources, []);
    };

    it("names each bad arg, its value and the fix, as the stack config's readers do", () =>
      refused(
        {
          ...TWO_TENANTS(),
          fleetSshKey: PUSH_KEY,
          tenants: [{ name: "Team_A", repository: { url: "ssh://git@git.example.com/a.git" } }],
          policies: { engine: "opa" },
        },
        /invalid FluxFleet acme args:\n {2}policies\.engine: "opa" is not supported; use one of kyverno, vap, none\.\n[^]*\n {2}tenants\[0\]\.name: "Team_A" is not a DNS-1123 label/m,
      ));

    it("a fleet on another Git host without fleetSshKey", () =>
      refused({ ...TWO_TENANTS() }, /fleetSshKey: \(unset\) is required when fleet\.provider is git/));

    it("a cluster: FluxFleet goes on the caller's", () =>
      refused(
        { ...TWO_TENANTS(), fleetSshKey: PUSH_KEY, cluster: { provider: "kind" } },
        /cluster: \{"provider":"kind"\} is not an arg of FluxFleet; make the cluster in your program/,
      ));
  });

  describe("the package (PulumiPlugin.yaml)", () => {
    let schema: any;
    before(async function () {
      this.timeout(180_000);
      schema = JSON.parse(await pluginSchema());
    });

    it("the plugin is this directory: PulumiPlugin.yaml names the nodejs runtime, the package is named as the program", () => {
      assert.match(fs.readFileSync(path.join(ROOT, "PulumiPlugin.yaml"), "utf8"), /^runtime: nodejs$/m);
      assert.equal(schema.name, "flux-multi-tenancy");
    });

    it("serves FluxFleet, its args and outputs as the TypeScript types say", () => {
      const r = schema.resources["flux-multi-tenancy:index:FluxFleet"];
      assert.ok(r?.isComponent, Object.keys(schema.resources ?? {}).join());
      assert.deepEqual(r.requiredInputs, ["kubeconfig"]);
      assert.deepEqual(Object.keys(r.inputProperties).sort(), [
        "clusterName",
        "deployKeyRotation",
        "environment",
        "fleet",
        "fleetSshKey",
        "flux",
        "github",
        "githubToken",
        "knownHosts",
        "kubeconfig",
        "notificationSecrets",
        "policies",
        "reconcile",
        "sopsKeyRotation",
        "tenantDefaults",
        "tenantServiceAccount",
        "tenants",
        "webhookBaseUrl",
      ]);
      assert.equal(r.inputProperties.tenants.items.$ref, "#/types/flux-multi-tenancy:index:TenantSettings");
      assert.deepEqual(Object.keys(r.properties).sort(), [
        "clusterName",
        "fleetPublicKey",
        "fleetRepositoryUrl",
        "fleetRevision",
        "fluxVersion",
        "kubeconfig",
        "receiverWebhooks",
        "tenantAgeRecipients",
        "tenantPublicKeys",
        "tenants",
      ]);
      const tenant = schema.types["flux-multi-tenancy:index:TenantSettings"];
      assert.deepEqual(tenant.required, ["name"]);
      assert.ok(tenant.properties.podSecurity && tenant.properties.repository, "a tenant's own settings and the features it shares with tenantDefaults");
      // Maps stay maps (written inline: a named interface with an index signature would be an object without properties).
      assert.deepEqual(tenant.properties.resourceQuota.additionalProperties.type, "string");
      assert.equal(r.inputProperties.notificationSecrets.additionalProperties.$ref, "#/types/flux-multi-tenancy:index:NotificationSecretSettings");
    });

    it("no cloud SDK is in what the plugin's harness and Pulumi's analyzer read (the package's tsconfig.json), and each cloud's cluster is still checked", () => {
      // The analyzer builds a program of every file tsconfig.json includes; the harness type-checks index.ts and its imports.
      const cloud = /node_modules\/@pulumi\/(aws|eks|gcp|azure-native)\//;
      const files = (dir: string) => {
        const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(path.join(dir, "tsconfig.json"), ts.sys.readFile).config, ts.sys, dir);
        assert.deepEqual(parsed.errors, []);
        return parsed;
      };
      const root = files(ROOT);
      const program = ts.createProgram({ rootNames: root.fileNames, options: root.options });
      const read = program.getSourceFiles().map((f) => f.fileName);
      assert.ok(read.includes(path.join(ROOT, "index.ts").split(path.sep).join("/")), "the entry point is in it");
      assert.deepEqual(
        read.filter((f) => cloud.test(f) || f.includes("/components/cluster/clouds/")),
        [],
      );
      const clouds = files(path.join(ROOT, "components", "cluster", "clouds"));
      assert.deepEqual(clouds.fileNames.map((f) => path.basename(f)).sort(), ["aksCluster.ts", "eksCluster.ts", "gkeCluster.ts"]);
    });
  });
});

/** Starts this directory as Pulumi's run-plugin harness starts a source-based plugin, and asks it for its schema. */
async function pluginSchema(): Promise<string> {
  const child = spawn(process.execPath, [require.resolve("@pulumi/pulumi/cmd/run-plugin"), ROOT], {
    cwd: ROOT,
    env: { ...process.env, PULUMI_NODEJS_TYPESCRIPT: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        const m = /^(\d+)\s*$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", (code) => reject(new Error(`the plugin exited (${code}) before serving: ${stderr}`)));
    });
    const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb");
    const { GetSchemaRequest } = require("@pulumi/pulumi/proto/provider_pb");
    const client = new ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      return await new Promise<string>((resolve, reject) =>
        client.getSchema(new GetSchemaRequest(), (err: Error | null, res: { getSchema(): string }) => (err ? reject(err) : resolve(res.getSchema()))),
      );
    } finally {
      client.close();
    }
  } finally {
    child.kill();
  }
}
