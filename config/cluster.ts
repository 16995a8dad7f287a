// cluster: kind, an existing cluster, or EKS, GKE, AKS with their settings.
import { AksSettings, CLUSTER_PROVIDERS, ClusterConfig, EksSettings, GkeSettings, PROJECT } from "./types";
import { DEFAULTS } from "./defaults";
import { Raw, Reader, settings } from "./reader";

export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/;
export const GCP_LOCATION = /^[a-z]+-[a-z]+\d+(-[a-z])?$/;
export const GCP_PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
export const AZURE_LOCATION = /^[a-z][a-z0-9]+$/;
export const K8S_MINOR = /^\d+\.\d+(\.\d+)?$/;

/** A required setting of the chosen cloud: missing and malformed each get their own message. */
export function required(r: Reader, key: string, value: unknown, provider: string, pattern: RegExp, what: string, example: string): string {
  const s = typeof value === "string" ? value.trim() : "";
  if (s === "") {
    r.fail(key, value, `is required for cluster.provider ${provider}`, `set ${what}: pulumi config set --path ${PROJECT}:${key} ${example}`);
  } else if (!pattern.test(s)) {
    r.fail(key, value, `is not ${what}`, `use e.g. "${example}"`);
  }
  return s;
}

export function nodeCount(r: Reader, key: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    r.fail(key, value, "is not a node count", "set a whole number, 1 or more");
    return 1;
  }
  return value;
}

export function k8sVersion(r: Reader, key: string, value: unknown): string {
  const s = r.string(key, value);
  if (s !== "" && !K8S_MINOR.test(s)) r.fail(key, value, "is not a Kubernetes version", 'use a minor version such as "1.34"');
  return s;
}

export function readEks(r: Reader, e: Raw): EksSettings {
  const eks: EksSettings = {
    region: required(r, "cluster.eks.region", e.region, "eks", AWS_REGION, "an AWS region", "eu-west-1"),
    version: k8sVersion(r, "cluster.eks.version", e.version),
    nodeCount: nodeCount(r, "cluster.eks.nodeCount", e.nodeCount),
    instanceType: r.string("cluster.eks.instanceType", e.instanceType),
    vpcId: r.string("cluster.eks.vpcId", e.vpcId, true),
    subnetIds: r.stringList("cluster.eks.subnetIds", e.subnetIds),
  };
  if ((eks.vpcId === "") !== (eks.subnetIds.length === 0)) {
    r.fail(
      "cluster.eks.subnetIds",
      e.subnetIds,
      "must be given together with cluster.eks.vpcId",
      "set both (a VPC and its subnets), or neither for the default VPC",
    );
  }
  return eks;
}

export function readGke(r: Reader, g: Raw): GkeSettings {
  return {
    project: required(r, "cluster.gke.project", g.project, "gke", GCP_PROJECT, "a Google Cloud project ID", "my-project-123"),
    location: required(r, "cluster.gke.location", g.location, "gke", GCP_LOCATION, "a Google Cloud region or zone", "europe-west1"),
    version: k8sVersion(r, "cluster.gke.version", g.version),
    nodeCount: nodeCount(r, "cluster.gke.nodeCount", g.nodeCount),
    machineType: r.string("cluster.gke.machineType", g.machineType),
    network: r.string("cluster.gke.network", g.network),
    subnetwork: r.string("cluster.gke.subnetwork", g.subnetwork, true),
  };
}

export function readAks(r: Reader, a: Raw): AksSettings {
  return {
    location: required(r, "cluster.aks.location", a.location, "aks", AZURE_LOCATION, "an Azure location", "westeurope"),
    resourceGroup: r.string("cluster.aks.resourceGroup", a.resourceGroup, true),
    version: k8sVersion(r, "cluster.aks.version", a.version),
    nodeCount: nodeCount(r, "cluster.aks.nodeCount", a.nodeCount),
    vmSize: r.string("cluster.aks.vmSize", a.vmSize),
  };
}

export function readCluster(r: Reader, environment: string): ClusterConfig {
  const d = DEFAULTS.cluster;
  const c = r.object("cluster", { provider: d.provider, name: environment, kind: d.kind, eks: d.eks, gke: d.gke, aks: d.aks } as Raw);
  const provider = r.oneOf("cluster.provider", c.provider, CLUSTER_PROVIDERS);
  const name = r.dns1123("cluster.name", c.name);
  const kindRaw = settings(r, "cluster.kind", c.kind, d.kind);
  const nodeImage = r.string("cluster.kind.nodeImage", kindRaw.nodeImage);
  const workers = kindRaw.workers;
  if (typeof workers !== "number" || !Number.isInteger(workers) || workers < 0) {
    r.fail("cluster.kind.workers", workers, "is not a whole number of worker nodes", "set 0 or more");
  }
  const eksRaw = settings(r, "cluster.eks", c.eks, d.eks);
  const gkeRaw = settings(r, "cluster.gke", c.gke, d.gke);
  const aksRaw = settings(r, "cluster.aks", c.aks, d.aks);
  // Only the chosen cloud's settings must be complete; the others are carried as given.
  const eks = provider === "eks" ? readEks(r, eksRaw) : (eksRaw as unknown as EksSettings);
  const gke = provider === "gke" ? readGke(r, gkeRaw) : (gkeRaw as unknown as GkeSettings);
  const aks = provider === "aks" ? readAks(r, aksRaw) : (aksRaw as unknown as AksSettings);
  return { provider, name, kind: { nodeImage, workers: typeof workers === "number" ? workers : 0 }, eks, gke, aks };
}
