// A Flux SSH key pair, registered as a read-only GitHub deploy key (or exported for registering on another Git host), and the Secret data it goes with.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { gitSshSecretData } from "../manifests/knownHosts";

export interface DeployKeyArgs {
  /** GitHub repository name (in the provider's owner); unset for a key the user registers on another Git host. */
  readonly repository?: pulumi.Input<string>;
  /** Title shown on GitHub. */
  readonly title: pulumi.Input<string>;
  /** Changing it replaces the key pair, the deploy key and every Secret holding them, in one up. */
  readonly rotation: pulumi.Input<string>;
  /** known_hosts lines of Git hosts besides github.com; default none. */
  readonly knownHosts?: string;
  /** Resources the key must wait for (the repository check). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Key pair (ECDSA P-384; the curve is always set, as the provider's P224 default is unusable for SSH) and, on GitHub, its read-only deploy key. */
export class DeployKey extends pulumi.ComponentResource {
  /** Data of a Flux SSH Git Secret: identity (secret), identity.pub, known_hosts. */
  public readonly secretData: pulumi.Output<Record<string, string>>;
  public readonly publicKey: pulumi.Output<string>;

  constructor(name: string, args: DeployKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:index:DeployKey", name, {}, opts);
    const key = new tls.PrivateKey(
      `${name}-identity`,
      { algorithm: "ECDSA", ecdsaCurve: "P384" },
      { parent: this, replacementTrigger: args.rotation, additionalSecretOutputs: ["privateKeyOpenssh", "privateKeyPem"] },
    );
    if (args.repository !== undefined) {
      new github.RepositoryDeployKey(
        `${name}-deploy-key`,
        { repository: args.repository, title: args.title, key: key.publicKeyOpenssh, readOnly: true },
        { parent: this, dependsOn: args.dependsOn },
      );
    }
    this.publicKey = key.publicKeyOpenssh;
    this.secretData = pulumi.secret(
      pulumi.all([key.privateKeyOpenssh, key.publicKeyOpenssh]).apply(([priv, pub]) => gitSshSecretData(priv, pub, args.knownHosts ?? "")),
    );
    this.registerOutputs({ publicKey: this.publicKey });
  }
}
