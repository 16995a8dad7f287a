// Policy pack: the tenant-isolation rules of rules.ts, run by `pulumi preview --policy-pack policy`.
import { PolicyPack, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import {
  committedObjects,
  deployKeysReadOnly,
  lockdownPresent,
  noCrossNamespaceRefs,
  repositoriesPrivateAsReported,
  type ResourceView,
  sshSecretsWhereUsed,
  tenantReconcilersImpersonate,
} from "./rules";

const COMMIT = "pulumi-nodejs:dynamic/flux-multi-tenancy:GitCommit";
const INSTALL = "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxInstall";
const SYNC = "pulumi-nodejs:dynamic/flux-multi-tenancy:FluxSync";

function perResource(name: string, description: string, rule: (r: ResourceView) => string[]): ResourceValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, report) => rule({ type: args.type, name: args.name, props: args.props }).forEach((m) => report(m)),
  };
}

const stackPolicy: StackValidationPolicy = {
  name: "tenant-isolation",
  description:
    "Repositories are as private as asked, as GitHub reports them; committed tenant objects impersonate and stay in their namespace; SSH keys stay where used; Flux carries the lockdown.",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const resources: ResourceView[] = args.resources.map((r) => ({ type: r.type, name: r.name, props: r.props }));
    const committed = args.resources.filter((r) => r.type === COMMIT).flatMap((r) => committedObjects(r.props.files ?? {}));
    const flux = args.resources
      .filter((r) => r.type === INSTALL || r.type === SYNC)
      .flatMap((r) => [...(r.props.components ?? []), ...(r.props.objects ?? [])]);
    // Stack policies see outputs: what GitHub reported for each repository, not what the program asked.
    [
      ...resources.flatMap(repositoriesPrivateAsReported),
      ...tenantReconcilersImpersonate(committed),
      ...noCrossNamespaceRefs(committed),
      ...sshSecretsWhereUsed(resources, [...committed, ...flux]),
      ...lockdownPresent(flux),
    ].forEach((m) => report(m));
  },
};

new PolicyPack("flux-multi-tenancy-isolation", {
  policies: [perResource("deploy-keys-read-only", "Deploy keys Flux clones with cannot push.", deployKeysReadOnly), stackPolicy],
});
