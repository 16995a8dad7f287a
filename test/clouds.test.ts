// Cloud clusters (EKS, GKE, AKS) behind the same cluster interface, under mocks.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { type Registered, registered, runProgram } from "./mocks";
import { localManifest, PROJECT_DIR, stackRaw, syntheticInstallManifest } from "./helpers";

let manifest: string;
before(() => {
  manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "clouds-")), "install.yaml");
  fs.writeFileSync(manifest, syntheticInstallManifest("v2.9.4"));
});

async function production(cluster: Record<string, unknown>) {
  const raw = structuredClone(await stackRaw("production")) as Record<string, any>;
  raw.flux = localManifest(manifest);
  raw.cluster = cluster;
  return runProgram("production", raw);
}

const name = (urn: string) => urn.split("::").pop() ?? "";
const get = (rs: Registered[], n: string) => {
  const found = rs.filter((r) => r.name === n);
  assert.equal(found.length, 1, `one ${n}`);
  return found[0];
};
const shape = (rs: Registered[]) => rs.map((r) => `${r.type} ${r.name}`).sort();
const clusterPart = (rs: Registered[]) => rs.filter((r) => r.name === "cluster" || name(r.parent) === "cluster" || r.name.startsWith("cluster-"));

const CLOUDS = {
  eks: {
    config: { provider: "eks", eks: { region: "eu-west-1", nodeCount: 2 } },
    resources: [
      "aws:iam/role:Role cluster-node-role",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment cluster-node-policy-0",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment cluster-node-policy-1",
      "aws:iam/rolePolicyAttachment:RolePolicyAttachment cluster-node-policy-2",
      "eks:index:Cluster cluster-eks",
      "eks:index:ManagedNodeGroup cluster-nodes",
      "flux-multi-tenancy:cluster:EksCluster cluster",
      "pulumi-nodejs:dynamic/flux-multi-tenancy:ClusterProbe cluster-probe",
      "pulumi:providers:aws cluster-aws",
      "pulumi:providers:kubernetes cluster-provider",
    ],
    cluster: "cluster-eks",
    pool: "cluster-nodes",
  },
  gke: {
    config: { provider: "gke", gke: { project: "my-project-123", location: "europe-west1", nodeCount: 2 } },
    resources: [
      "flux-multi-tenancy:cluster:GkeCluster cluster",
      "gcp:container/cluster:Cluster cluster-gke",
      "gcp:container/nodePool:NodePool cluster-nodes",
      "pulumi-nodejs:dynamic/flux-multi-tenancy:ClusterProbe cluster-probe",
      "pulumi:providers:gcp cluster-gcp",
      "pulumi:providers:kubernetes cluster-provider",
    ],
    cluster: "cluster-gke",
    pool: "cluster-nodes",
  },
  aks: {
    config: { provider: "aks", aks: { location: "westeurope", nodeCount: 2 } },
    resources: [
      "azure-native:containerservice:ManagedCluster cluster-aks",
      "azure-native:resources:ResourceGroup cluster-rg",
      "flux-multi-tenancy:cluster:AksCluster cluster",
      "pulumi-nodejs:dynamic/flux-multi-tenancy:ClusterProbe cluster-probe",
      "pulumi:providers:azure-native cluster-azure",
      "pulumi:providers:kubernetes cluster-provider",
    ],
    cluster: "cluster-aks",
    pool: "cluster-aks",
  },
} as const;

describe("cloud clusters", () => {
  let existing: Registered[];
  before(async () => {
    const raw = structuredClone(await stackRaw("production")) as Record<string, any>;
    raw.flux = localManifest(manifest);
    existing = (await runProgram("production", raw, { kubeconfig: "apiVersion: v1\n" })).resources;
  });

  for (const [cloud, spec] of Object.entries(CLOUDS)) {
    describe(cloud, () => {
      let resources: Registered[];
      let outputs: Record<string, any>;
      before(async () => ({ resources, outputs } = await production(spec.config)));

      it("builds the cluster, its nodes, and a provider from its kubeconfig", () => {
        assert.deepEqual(shape(clusterPart(resources)), [...spec.resources].sort());
        const provider = get(resources, "cluster-provider");
        assert.deepEqual(provider.secretInputs, ["kubeconfig"]);
        assert.match(provider.inputs.kubeconfig, /production/);
        assert.ok(provider.dependencies.map(name).includes("cluster-probe"), "the provider waits for the API");
        assert.ok(get(resources, "cluster-probe").dependencies.map(name).includes(spec.cluster), "the probe reads the cloud cluster's kubeconfig");
      });

      it("sizes the nodes as configured", () => {
        const pool = get(resources, spec.pool).inputs;
        const count = pool.scalingConfig?.desiredSize ?? pool.nodeCount ?? pool.agentPoolProfiles?.[0]?.count;
        assert.equal(count, 2);
      });

      it("keeps the kubeconfig secret", async () => {
        const { raw } = await production(spec.config);
        assert.ok(await pulumi.isSecret(raw.kubeconfig));
      });

      it("wires Flux and the tenants to that provider exactly as on an existing cluster", () => {
        const rest = (rs: Registered[]) => shape(rs.filter((r) => !clusterPart(rs).includes(r)));
        assert.deepEqual(rest(resources), rest(existing));
        for (const r of resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
          assert.match(r.provider, /::cluster-provider::/, r.name);
        }
        assert.equal(outputs.clusterName, "production");
      });
    });
  }

  it("EKS in a given VPC puts the nodes in its subnets", async () => {
    const { resources } = await production({ provider: "eks", eks: { region: "us-east-1", vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"] } });
    assert.equal(get(resources, "cluster-eks").inputs.vpcId, "vpc-1");
    assert.deepEqual(get(resources, "cluster-nodes").inputs.subnetIds, ["subnet-a", "subnet-b"]);
  });

  it("AKS in an existing resource group creates none", async () => {
    const { resources } = await production({ provider: "aks", aks: { location: "westeurope", resourceGroup: "platform" } });
    assert.ok(!resources.some((r) => r.type === "azure-native:resources:ResourceGroup"));
    assert.equal(get(resources, "cluster-aks").inputs.resourceGroupName, "platform");
  });

  describe("bad input: one message each, before any resource is registered", () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        "EKS region missing",
        { provider: "eks" },
        'flux-multi-tenancy:cluster.eks.region: "" is required for cluster.provider eks; set an AWS region: pulumi config set --path flux-multi-tenancy:cluster.eks.region eu-west-1.',
      ],
      [
        "EKS region malformed",
        { provider: "eks", eks: { region: "eu-west" } },
        'flux-multi-tenancy:cluster.eks.region: "eu-west" is not an AWS region; use e.g. "eu-west-1".',
      ],
      [
        "EKS node count < 1",
        { provider: "eks", eks: { region: "eu-west-1", nodeCount: 0 } },
        "flux-multi-tenancy:cluster.eks.nodeCount: 0 is not a node count; set a whole number, 1 or more.",
      ],
      [
        "EKS VPC without subnets",
        { provider: "eks", eks: { region: "eu-west-1", vpcId: "vpc-1" } },
        "flux-multi-tenancy:cluster.eks.subnetIds: [] must be given together with cluster.eks.vpcId; set both (a VPC and its subnets), or neither for the default VPC.",
      ],
      [
        "GKE project missing",
        { provider: "gke", gke: { location: "europe-west1" } },
        'flux-multi-tenancy:cluster.gke.project: "" is required for cluster.provider gke; set a Google Cloud project ID: pulumi config set --path flux-multi-tenancy:cluster.gke.project my-project-123.',
      ],
      [
        "GKE location malformed",
        { provider: "gke", gke: { project: "my-project-123", location: "Europe West" } },
        'flux-multi-tenancy:cluster.gke.location: "Europe West" is not a Google Cloud region or zone; use e.g. "europe-west1".',
      ],
      [
        "AKS location missing",
        { provider: "aks" },
        'flux-multi-tenancy:cluster.aks.location: "" is required for cluster.provider aks; set an Azure location: pulumi config set --path flux-multi-tenancy:cluster.aks.location westeurope.',
      ],
      [
        "AKS node count < 1",
        { provider: "aks", aks: { location: "westeurope", nodeCount: -2 } },
        "flux-multi-tenancy:cluster.aks.nodeCount: -2 is not a node count; set a whole number, 1 or more.",
      ],
      [
        "unknown cloud setting",
        { provider: "gke", gke: { project: "my-project-123", location: "europe-west1", zone: "b" } },
        'flux-multi-tenancy:cluster.gke.zone: "b" is not a known field; known fields are project, location, version, nodeCount, machineType, network, subnetwork.',
      ],
    ];
    for (const [title, cluster, message] of cases) {
      it(title, async () => {
        await assert.rejects(production(cluster), (e: Error) => {
          assert.ok(pulumi.RunError.isInstance(e));
          assert.equal(e.message, `invalid stack config:\n${message}`);
          return true;
        });
        assert.deepEqual(registered, []);
      });
    }
  });

  it("a kind run never loads a cloud SDK (an EKS run does)", () => {
    const script = `
      require("./test/mocks");
      const { runProgram } = require("./test/mocks");
      const { stackRaw } = require("./test/helpers");
      (async () => {
        const raw = await stackRaw("staging");
        await runProgram("staging", { ...raw, flux: ${JSON.stringify(localManifest(manifest))} });
        const clouds = () => Object.keys(require.cache).filter((k) => /node_modules\\/@pulumi\\/(aws|eks|gcp|azure-native)\\//.test(k)).length;
        const afterKind = clouds();
        await runProgram("staging", { ...raw, cluster: { provider: "eks", eks: { region: "eu-west-1" } }, flux: ${JSON.stringify(localManifest(manifest))} });
        console.log(JSON.stringify([afterKind, clouds() > 0]));
        process.exit(0);
      })();`;
    const out = execFileSync(process.execPath, ["-r", "ts-node/register", "-e", script], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
    });
    assert.equal(out.trim().split("\n").pop(), "[0,true]");
  });
});
