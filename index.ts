// Wiring only: read and check the stack config, make the cluster, build the fleet on it (FluxFleet), export what a stack reports.
// Run as a plugin from another directory, the harness type-checks without this directory's tsconfig.json (target
// ES2020): the errors' `cause` needs ES2022's Error types.
/// <reference lib="es2022.error" />
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { createCluster, FluxFleet } from "./components";
import { loadConfig } from "./config";
import { loadInstallManifest } from "./lib/fluxRelease";
import { withoutPromiseStacks } from "./lib/promiseStacks";

async function program() {
  // Every bad setting, and an install manifest that cannot be read or verified, stop here: before any resource.
  const { config, settings, kubeconfig, fleetSshKey, notificationSecrets } = loadConfig();
  const installManifest = await loadInstallManifest(config.flux, { baseDir: __dirname });
  return withoutPromiseStacks(() => {
    const cluster = createCluster("cluster", config.cluster, kubeconfig);
    const fleet = new FluxFleet(
      "multi-tenancy",
      {
        ...settings,
        kubeconfig: cluster.kubeconfig,
        clusterName: config.cluster.name,
        // Every GitHub object goes through the program's own client: github:token when the stack has one, else GITHUB_TOKEN.
        githubToken: new pulumi.Config("github").getSecret("token") ?? "",
        fleetSshKey,
        notificationSecrets: notificationSecrets as pulumi.Output<never>,
      },
      { cluster, installManifest, programNames: true },
    );
    return {
      clusterName: cluster.name,
      kubeconfig: cluster.kubeconfig,
      fleetRepositoryUrl: fleet.fleetRepositoryUrl,
      fleetRevision: fleet.fleetRevision,
      fluxVersion: fleet.fluxVersion,
      tenants: fleet.tenants,
      // Flux's read key, to register by hand (read-only) on a fleet host that is not GitHub, as `flux bootstrap git` asks.
      ...(fleet.fleetPublicKey ? { fleetPublicKey: fleet.fleetPublicKey } : {}),
      // Keys to register by hand, read-only, on the Git hosts of tenant repositories given by URL with deployKey: true.
      tenantPublicKeys: fleet.tenantPublicKeys,
      // The age recipient each tenant with sops encrypts its Secrets to (sops --encrypt --age <recipient>).
      tenantAgeRecipients: fleet.tenantAgeRecipients,
      // Each Receiver's webhook (fleet and tenants): URL (or path, without webhookBaseUrl), secret, and whether the program registered it.
      receiverWebhooks: fleet.receiverWebhooks,
    };
  });
}

// Run by `pulumi up` (Pulumi.yaml), this file is the program. Run as the package's plugin (PulumiPlugin.yaml: Pulumi's
// run-plugin harness requires this directory), it offers the FluxFleet component to programs in any Pulumi language.
const asPlugin = require.main?.filename.split(path.sep).join("/").includes("/cmd/run-plugin/") ?? false;
export = asPlugin ? { FluxFleet } : program;
