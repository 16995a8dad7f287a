// AKS: a managed cluster with a system node pool, in a resource group of its own or an existing one; certificate kubeconfig.
import * as resources from "@pulumi/azure-native/resources";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as azure from "@pulumi/azure-native/provider";
import * as pulumi from "@pulumi/pulumi";
import type { AksSettings } from "../../../config";
import { ClusterComponent } from "../access";
import type { CloudClusterArgs, IsCloudCluster } from "..";

export type AksClusterArgs = CloudClusterArgs<AksSettings>;

export class AksCluster extends ClusterComponent {
  constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:cluster:AksCluster", name, args.clusterName, opts, (self) => {
      const s = args.settings;
      const azureProvider = new azure.Provider(`${name}-azure`, { location: s.location }, { parent: self });
      const inAzure = { parent: self, provider: azureProvider };
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
      // The admin credentials are a client certificate: a CI runner needs no interactive login (or kubelogin).
      const credentials = containerservice.listManagedClusterAdminCredentialsOutput({ resourceGroupName: group, resourceName: cluster.name }, inAzure);
      return { kubeconfig: credentials.kubeconfigs.apply((k) => Buffer.from(k?.[0]?.value ?? "", "base64").toString("utf8")) };
    });
  }
}

/** createCluster requires this module as a CloudClusterClass: checked here, where the cloud's types are. */
export type AksClusterShape = IsCloudCluster<AksSettings, typeof AksCluster>;
