// AKS: a managed cluster with a system node pool, in a resource group of its own or an existing one; certificate kubeconfig.
import * as resources from "@pulumi/azure-native/resources";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as azure from "@pulumi/azure-native/provider";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AksSettings } from "../../config";
import type { Cluster } from "./index";
import { kubernetesAccess } from "./access";

export interface AksClusterArgs {
  readonly clusterName: string;
  readonly settings: AksSettings;
}

export class AksCluster extends pulumi.ComponentResource implements Cluster {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly clusterUid: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:AksCluster", name, {}, opts);
    const s = args.settings;
    const azureProvider = new azure.Provider(`${name}-azure`, { location: s.location }, { parent: this });
    const inAzure = { parent: this, provider: azureProvider };
    const group = s.resourceGroup
      ? pulumi.output(s.resourceGroup)
      : new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: `${args.clusterName}-rg`, location: s.location }, inAzure).name;
    const cluster = new containerservice.ManagedCluster(
      `${name}-aks`,
      {
        resourceName: args.clusterName,
        resourceGroupName: group,
        location: s.location,
        dnsPrefix: args.clusterName,
        kubernetesVersion: s.version,
        identity: { type: containerservice.ResourceIdentityType.SystemAssigned },
        agentPoolProfiles: [{ name: "system", mode: "System", count: s.nodeCount, vmSize: s.vmSize, osType: "Linux" }],
      },
      inAzure,
    );
    this.name = pulumi.output(args.clusterName);
    // The admin credentials are a client certificate: a CI runner needs no interactive login (or kubelogin).
    const credentials = containerservice.listManagedClusterAdminCredentialsOutput({ resourceGroupName: group, resourceName: cluster.name }, inAzure);
    const kubeconfig = credentials.kubeconfigs.apply((k) => Buffer.from(k?.[0]?.value ?? "", "base64").toString("utf8"));
    ({ kubeconfig: this.kubeconfig, clusterUid: this.clusterUid, provider: this.provider } = kubernetesAccess(this, name, kubeconfig));
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig });
  }
}
