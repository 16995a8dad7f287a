// Clusters Flux goes on: each gives a secret kubeconfig, its identity and an explicit Kubernetes provider.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../../config";
import { KindClusterResource } from "../providers/kindCluster";
import { type Cluster, CLUSTER_WAIT_SECONDS, ClusterComponent } from "./access";

export { type Cluster, CLUSTER_WAIT_SECONDS, ClusterComponent };

export interface KindClusterArgs {
  /** kind cluster name. */
  readonly clusterName: pulumi.Input<string>;
  /** Node image, e.g. kindest/node:v1.36.1. */
  readonly nodeImage: pulumi.Input<string>;
  /** Worker nodes beside the control plane. */
  readonly workers: pulumi.Input<number>;
}

/** A local kind cluster driven by the kind CLI: replaced on any change, deleted on destroy, re-created when deleted out of band. */
export class KindCluster extends ClusterComponent {
  constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:KindCluster", name, args.clusterName, opts, (self) => {
      // kind waits for the API itself while creating the cluster.
      const cluster = new KindClusterResource(
        `${name}-kind`,
        { name: args.clusterName, nodeImage: args.nodeImage, workers: args.workers, waitSeconds: CLUSTER_WAIT_SECONDS },
        { parent: self },
      );
      return { kubeconfig: cluster.kubeconfig, clusterUid: cluster.clusterUid, kindHost: cluster.host };
    });
  }
}

export interface ExistingClusterArgs {
  /** Name reported as the stack's cluster name. */
  readonly clusterName: pulumi.Input<string>;
  /** kubeconfig of the cluster (from the secret config key kubeconfig). */
  readonly kubeconfig: pulumi.Input<string>;
}

/** A cluster made elsewhere, reached through its kubeconfig; the program waits for its API before anything else. */
export class ExistingCluster extends ClusterComponent {
  constructor(name: string, args: ExistingClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:ExistingCluster", name, args.clusterName, opts, () => ({ kubeconfig: args.kubeconfig }));
  }
}

/**
 * The cluster `config.provider` names. A cloud's SDK is loaded only when that cloud is chosen, so a
 * kind or existing-cluster run never pays for the others.
 */
export function createCluster(name: string, config: ClusterConfig, kubeconfig?: pulumi.Input<string>): Cluster {
  switch (config.provider) {
    case "kind":
      return new KindCluster(name, { clusterName: config.name, nodeImage: config.kind.nodeImage, workers: config.kind.workers });
    case "existing":
      if (kubeconfig === undefined) throw new Error("an existing cluster needs its kubeconfig");
      return new ExistingCluster(name, { clusterName: config.name, kubeconfig });
    case "eks": {
      const { EksCluster } = require("./eksCluster") as typeof import("./eksCluster");
      return new EksCluster(name, { clusterName: config.name, settings: config.eks });
    }
    case "gke": {
      const { GkeCluster } = require("./gkeCluster") as typeof import("./gkeCluster");
      return new GkeCluster(name, { clusterName: config.name, settings: config.gke });
    }
    case "aks": {
      const { AksCluster } = require("./aksCluster") as typeof import("./aksCluster");
      return new AksCluster(name, { clusterName: config.name, settings: config.aks });
    }
  }
}
