// Flux in the cluster: installed as Git renders it, the flux-system Secret and sync, then the waits in dependency order.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { bootstrapObjects } from "../manifests/fluxBuild";
import { FLEET_RECEIVER, seededKustomizations } from "../manifests/clusters";
import { FLUX_NAMESPACE, FLUX_SYSTEM } from "../manifests/labels";
import { paramsKeeper } from "../manifests/policies";
import { FluxInstallResource, FluxReadyResource, FluxSyncResource } from "./providers/flux";

/** How long each wait (controllers, each Ready) may take before it fails with Flux's message. */
export const WAIT_SECONDS = 900;

const GIT_REPOSITORIES = "gitrepositories.source.toolkit.fluxcd.io";
const KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io";

export interface FluxBootstrapArgs {
  readonly config: StackConfig;
  /** The cluster component: nothing is applied before it (and its API wait) is done. */
  readonly cluster: pulumi.Resource;
  /** gotk-components.yaml as committed (known once the install manifest is read). */
  readonly gotkComponents: pulumi.Input<string>;
  /** Secret kubeconfig of the cluster. */
  readonly kubeconfig: pulumi.Input<string>;
  readonly clusterUid: pulumi.Input<string>;
  /** The cluster's name, and for kind the host running it (""): where a gone cluster can be proven gone. */
  readonly clusterName: pulumi.Input<string>;
  readonly kindHost: pulumi.Input<string>;
  /** The explicit Kubernetes provider. */
  readonly k8sProvider: k8s.Provider;
  /** Data of the flux-system Secret (identity, identity.pub, known_hosts); secret. */
  readonly gitSecretData: pulumi.Input<Record<string, string>>;
  /** The fleet revision Flux must reach, `<branch>@sha1:<sha>`. */
  readonly revision: pulumi.Input<string>;
  /** The fleet commit and deploy key: installed after the commit, synced after the key. */
  readonly fleetCommit: pulumi.Resource;
  readonly deployKey: pulumi.Resource;
  /** GitHub token for the waits' "contains this commit" check; "" reads GITHUB_TOKEN. */
  readonly githubToken: pulumi.Input<string>;
  /** With fleet.provider git: the push key, for the same check with git. */
  readonly fleetPushKey?: pulumi.Input<string>;
  /** The public keys the user registers on Git hosts (fleet and tenants), said at once if Flux cannot read the fleet; "" for none. */
  readonly keysToRegister?: pulumi.Input<string>;
  /** The fleet Receiver's token (fleet.receiver), put into its Secret in flux-system. */
  readonly receiverToken?: pulumi.Output<string>;
}

export class FluxBootstrap extends pulumi.ComponentResource {
  /** The wait for `tenants`: tenant namespaces exist once it is done. */
  public readonly tenantsReady: pulumi.Resource;

  constructor(name: string, args: FluxBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:index:FluxBootstrap", name, {}, opts);
    const { config } = args;
    const installed = pulumi.output(args.gotkComponents).apply((text) => bootstrapObjects(config, text));
    const kubeconfig = pulumi.secret(args.kubeconfig);

    // Native policies read their allowlist as a ConfigMap parameter: keep the API server watching ConfigMap parameters
    // for the cluster's life (see paramsKeeper). Server-side applied (created or taken over: another stack on this
    // cluster, or this one before a destroy, may have left it) and left in place on destroy, so a later up's allowlist
    // is seen too.
    if (config.policies.engine === "vap") {
      const [policy, binding] = paramsKeeper();
      const metadata = (o: typeof policy) => ({ ...o.metadata, annotations: { "pulumi.com/patchForce": "true" } });
      const keeper = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyPatch(
        `${name}-params-keeper`,
        { metadata: metadata(policy), spec: policy.spec as k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicySpecPatch },
        { parent: this, provider: args.k8sProvider, dependsOn: [args.cluster], retainOnDelete: true },
      );
      new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBindingPatch(
        `${name}-params-keeper-binding`,
        { metadata: metadata(binding), spec: binding.spec as k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpecPatch },
        { parent: this, provider: args.k8sProvider, dependsOn: [keeper], retainOnDelete: true },
      );
    }

    const install = new FluxInstallResource(
      `${name}-install`,
      {
        kubeconfig,
        clusterUid: args.clusterUid,
        version: config.flux.version,
        clusterName: args.clusterName,
        kindHost: args.kindHost,
        foundation: installed.foundation,
        components: installed.components,
        timeoutSeconds: WAIT_SECONDS,
      },
      // After the fleet commit: on destroy Flux is uninstalled before its files leave Git, so it prunes nothing.
      { parent: this, dependsOn: [args.cluster, args.fleetCommit] },
    );

    const secret = new k8s.core.v1.Secret(
      `${name}-git-secret`,
      { metadata: { name: FLUX_SYSTEM, namespace: FLUX_NAMESPACE }, type: "Opaque", stringData: args.gitSecretData },
      { parent: this, provider: args.k8sProvider, dependsOn: [install] },
    );

    if (args.receiverToken) {
      new k8s.core.v1.Secret(
        `${name}-receiver-secret`,
        { metadata: { name: FLEET_RECEIVER, namespace: FLUX_NAMESPACE }, type: "Opaque", stringData: { token: args.receiverToken } },
        { parent: this, provider: args.k8sProvider, dependsOn: [install] },
      );
    }

    const sync = new FluxSyncResource(
      `${name}-sync`,
      { kubeconfig, clusterUid: args.clusterUid, path: config.flux.path, objects: installed.sync },
      { parent: this, dependsOn: [secret, args.deployKey, install] },
    );

    const wait = (
      id: string,
      resource: string,
      namespace: string,
      objName: string,
      revision: pulumi.Input<string>,
      after: pulumi.Resource,
      hint: pulumi.Input<string> = "",
    ) =>
      new FluxReadyResource(
        `${name}-ready-${id}`,
        {
          kubeconfig,
          resource,
          namespace,
          name: objName,
          revision,
          timeoutSeconds: WAIT_SECONDS,
          // Another stack may push to the shared fleet repository while this one waits.
          ...(config.fleet.provider === "github"
            ? { repository: `${config.fleet.owner}/${config.fleet.repository}`, token: pulumi.secret(args.githubToken), gitUrl: "", sshKey: "" }
            : { repository: "", token: "", gitUrl: config.fleet.url, sshKey: pulumi.secret(args.fleetPushKey ?? "") }),
          apiUrl: config.fleet.provider === "github" ? config.github.apiUrl : "",
          knownHosts: config.knownHosts,
          hint,
        },
        { parent: this, dependsOn: [after] },
      );

    let last: pulumi.Resource = wait("source", GIT_REPOSITORIES, FLUX_NAMESPACE, FLUX_SYSTEM, args.revision, sync, args.keysToRegister ?? "");
    last = wait(FLUX_SYSTEM, KUSTOMIZATIONS, FLUX_NAMESPACE, FLUX_SYSTEM, args.revision, last);
    // The infrastructure chain and tenants; each tenant's own Kustomization is waited for by its Tenant.
    for (const k of seededKustomizations(config).filter((s) => s.namespace === FLUX_NAMESPACE)) {
      last = wait(k.name, KUSTOMIZATIONS, FLUX_NAMESPACE, k.name, args.revision, last);
    }
    this.tenantsReady = last;
    this.registerOutputs({});
  }
}
