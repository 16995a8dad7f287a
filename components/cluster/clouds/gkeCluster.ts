// GKE: a cluster without its default pool, a node pool of its own, and a kubeconfig for gke-gcloud-auth-plugin.
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { GkeSettings } from "../../../config";
import { ClusterComponent } from "../access";
import type { CloudClusterArgs, IsCloudCluster } from "..";

export type GkeClusterArgs = CloudClusterArgs<GkeSettings>;

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

export class GkeCluster extends ClusterComponent {
  constructor(name: string, args: GkeClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:GkeCluster", name, args.clusterName, opts, (self) => {
      const s = args.settings;
      const gcpProvider = new gcp.Provider(`${name}-gcp`, { project: s.project }, { parent: self });
      const inGcp = { parent: self, provider: gcpProvider };
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
      const kubeconfig = pulumi
        .all([cluster.name, cluster.endpoint, cluster.masterAuth.clusterCaCertificate])
        .apply(([n, endpoint, ca]) => gkeKubeconfig(`gke_${s.project}_${s.location}_${n}`, endpoint, ca ?? ""));
      return { kubeconfig };
    });
  }
}

/** createCluster requires this module as a CloudClusterClass: checked here, where the cloud's types are. */
export type GkeClusterShape = IsCloudCluster<GkeSettings, typeof GkeCluster>;
