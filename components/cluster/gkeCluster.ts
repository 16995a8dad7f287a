// GKE: a cluster without its default pool, a node pool of its own, and a kubeconfig for gke-gcloud-auth-plugin.
import * as gcp from "@pulumi/gcp";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GkeSettings } from "../../config";
import type { Cluster } from "./index";
import { kubernetesAccess } from "./access";

export interface GkeClusterArgs {
  readonly clusterName: string;
  readonly settings: GkeSettings;
}

/** A kubeconfig for a GKE cluster that authenticates through gke-gcloud-auth-plugin (no interactive login). */
export function gkeKubeconfig(name: string, endpoint: string, caCertificate: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: `https://${endpoint}`, "certificate-authority-data": caCertificate } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "gke-gcloud-auth-plugin",
            provideClusterInfo: true,
            installHint: "Install gke-gcloud-auth-plugin: https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl",
          },
        },
      },
    ],
  });
}

export class GkeCluster extends pulumi.ComponentResource implements Cluster {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly clusterUid: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:GkeCluster", name, {}, opts);
    const s = args.settings;
    const gcpProvider = new gcp.Provider(`${name}-gcp`, { project: s.project }, { parent: this });
    const inGcp = { parent: this, provider: gcpProvider };
    const cluster = new gcp.container.Cluster(
      `${name}-gke`,
      {
        name: args.clusterName,
        location: s.location,
        minMasterVersion: s.version,
        network: s.network,
        ...(s.subnetwork ? { subnetwork: s.subnetwork } : {}),
        removeDefaultNodePool: true,
        initialNodeCount: 1,
        deletionProtection: false,
        workloadIdentityConfig: { workloadPool: `${s.project}.svc.id.goog` },
      },
      inGcp,
    );
    new gcp.container.NodePool(
      `${name}-nodes`,
      {
        cluster: cluster.name,
        location: s.location,
        nodeCount: s.nodeCount,
        version: cluster.masterVersion,
        nodeConfig: { machineType: s.machineType, oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"] },
      },
      inGcp,
    );
    this.name = pulumi.output(args.clusterName);
    const kubeconfig = pulumi
      .all([cluster.name, cluster.endpoint, cluster.masterAuth.clusterCaCertificate])
      .apply(([n, endpoint, ca]) => gkeKubeconfig(`gke_${s.project}_${s.location}_${n}`, endpoint, ca ?? ""));
    ({ kubeconfig: this.kubeconfig, clusterUid: this.clusterUid, provider: this.provider } = kubernetesAccess(this, name, kubeconfig));
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig });
  }
}
