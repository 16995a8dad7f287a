// Clusters Flux goes on: each gives a secret kubeconfig, its identity and an explicit Kubernetes provider.
import * as pulumi from "@pulumi/pulumi";
import type { AksSettings, ClusterConfig, EksSettings, GkeSettings } from "../../config";
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
 * A cloud's cluster class as createCluster requires it. Named here rather than imported (`typeof import(...)`), so no
 * cloud SDK is in what TypeScript reads for this module: not in the type-check the package's plugin harness runs at
 * every start, nor in the program Pulumi's component analyzer builds from tsconfig.json (which leaves clouds/ out).
 * Each cloud's module states that it is one (`IsCloudCluster`), checked by its own tsconfig.json.
 */
export type CloudClusterClass<S> = new (name: string, args: CloudClusterArgs<S>, opts?: pulumi.ComponentResourceOptions) => ClusterComponent;
/** A cloud cluster's args: its name and its cloud's settings (cluster.eks, cluster.gke or cluster.aks). */
export interface CloudClusterArgs<S> {
  readonly clusterName: string;
  readonly settings: S;
}
/** Compiles only when `C` is a CloudClusterClass<S>. */
export type IsCloudCluster<S, C extends CloudClusterClass<S>> = C;

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
      const { EksCluster } = require("./clouds/eksCluster") as { EksCluster: CloudClusterClass<EksSettings> };
      return new EksCluster(name, { clusterName: config.name, settings: config.eks });
    }
    case "gke": {
      const { GkeCluster } = require("./clouds/gkeCluster") as { GkeCluster: CloudClusterClass<GkeSettings> };
      return new GkeCluster(name, { clusterName: config.name, settings: config.gke });
    }
    case "aks": {
      const { AksCluster } = require("./clouds/aksCluster") as { AksCluster: CloudClusterClass<AksSettings> };
      return new AksCluster(name, { clusterName: config.name, settings: config.aks });
    }
  }
}
