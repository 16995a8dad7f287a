// The fleet repository on any Git server over SSH: this stack's files pushed with the user's key, Flux's read key generated for the user to register.
import * as pulumi from "@pulumi/pulumi";
import { DeployKey } from "./deployKey";
import { GitPushResource } from "./providers/gitPush";

export interface SshFleetRepositoryArgs {
  /** `ssh://` URL of an existing repository (created and owned outside the program). */
  readonly url: string;
  /** Branch Flux syncs; created from the default branch when missing. */
  readonly branch: string;
  /** This stack's view of the fleet tree (renderFleet). */
  readonly files: pulumi.Input<Record<string, string>>;
  /** Environment name, in commit messages. */
  readonly environment: string;
  /** Write shared files another stack reads differently (default false). */
  readonly overwriteShared?: boolean;
  /** Rotation trigger of Flux's read key (default ""). */
  readonly keyRotation?: pulumi.Input<string>;
  /** The OpenSSH private key that pushes; secret. */
  readonly pushKey: pulumi.Input<string>;
  /** known_hosts lines of the host. */
  readonly knownHosts: string;
}

export class SshFleetRepository extends pulumi.ComponentResource {
  /** The SSH URL Flux clones. */
  public readonly url: string;
  /** `<branch>@sha1:<sha>` of the head after this up's push. */
  public readonly revision: pulumi.Output<string>;
  /** Data of the flux-system Secret; secret. */
  public readonly secretData: pulumi.Output<Record<string, string>>;
  /** Flux's read key: register it, read-only, on the host (as `flux bootstrap git` asks). */
  public readonly publicKey: pulumi.Output<string>;
  /** The push; bootstrap depends on it, so destroy uninstalls Flux before the files leave Git. */
  public readonly commit: GitPushResource;
  /** The key pair; the sync waits for it. */
  public readonly deployKey: DeployKey;

  constructor(name: string, args: SshFleetRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:index:SshFleetRepository", name, {}, opts);
    this.url = args.url;
    this.commit = new GitPushResource(
      `${name}-commit`,
      {
        url: args.url,
        branch: args.branch,
        files: args.files,
        message: `flux-multi-tenancy: ${args.environment}`,
        overwriteShared: args.overwriteShared ?? false,
        sshKey: pulumi.secret(args.pushKey),
        knownHosts: args.knownHosts,
      },
      { parent: this },
    );
    this.revision = this.commit.revision;
    this.deployKey = new DeployKey(
      `${name}-flux`,
      { title: `flux-${args.environment}`, rotation: args.keyRotation ?? "", knownHosts: args.knownHosts },
      { parent: this },
    );
    this.secretData = this.deployKey.secretData;
    this.publicKey = this.deployKey.publicKey;
    this.registerOutputs({ url: this.url, revision: this.revision, publicKey: this.publicKey });
  }
}
