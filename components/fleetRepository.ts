// The fleet repository on GitHub: created (private) or adopted, this stack's files committed, a read-only deploy key for Flux.
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { githubSshUrl } from "../manifests/fluxSystem";
import { DeployKey } from "./deployKey";
import { GitCommitResource } from "./providers/gitCommit";
import { GitHubRepositoryResource } from "./providers/githubRepository";

export interface FleetRepositoryArgs {
  /** GitHub user or organisation. */
  readonly owner: string;
  readonly repository: string;
  /** Branch Flux syncs; created from the default branch when missing. */
  readonly branch: string;
  /** Visibility of a created repository (default private). */
  readonly visibility?: "private" | "internal" | "public";
  /** true creates the repository (kept on destroy: other stacks may read it); false adopts it. */
  readonly create: boolean;
  /** This stack's view of the fleet tree (renderFleet). */
  readonly files: pulumi.Input<Record<string, string>>;
  /** Environment name, in the deploy key title and commit messages. */
  readonly environment: string;
  /** Write shared files another stack reads differently (default false). */
  readonly overwriteShared?: boolean;
  /** Deploy key rotation trigger (default ""). */
  readonly keyRotation?: pulumi.Input<string>;
  /** GitHub token for the commit provider; "" reads GITHUB_TOKEN. */
  readonly token: pulumi.Input<string>;
  /** The GitHub provider of `owner`. */
  readonly githubProvider: github.Provider;
}

export class FleetRepository extends pulumi.ComponentResource {
  /** The SSH URL Flux clones. */
  public readonly url: string;
  public readonly htmlUrl: pulumi.Output<string>;
  /** `<branch>@sha1:<sha>` of the head after this up's commit. */
  public readonly revision: pulumi.Output<string>;
  /** Data of the flux-system Secret; secret. */
  public readonly secretData: pulumi.Output<Record<string, string>>;
  /** The commit; bootstrap depends on it, so destroy uninstalls Flux before the files leave Git. */
  public readonly commit: GitCommitResource;
  /** The deploy key; the sync waits for it. */
  public readonly deployKey: DeployKey;

  constructor(name: string, args: FleetRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("flux-multi-tenancy:index:FleetRepository", name, {}, opts);
    const gh = { parent: this, provider: args.githubProvider };
    // Created with a first commit (an empty repository takes no commits through the Git API), or found again when it
    // is the one this program created before; never deleted: every stack of the fleet may read it.
    const repo = args.create
      ? new GitHubRepositoryResource(
          `${name}-repo`,
          {
            owner: args.owner,
            name: args.repository,
            visibility: args.visibility ?? "private",
            description: "Fleet repository: Flux multi-tenancy layout",
            token: pulumi.secret(args.token),
            apiUrl: "",
          },
          { parent: this },
        )
      : undefined;
    this.url = githubSshUrl(args.owner, args.repository);
    this.htmlUrl = pulumi.output(`https://github.com/${args.owner}/${args.repository}`);
    this.commit = new GitCommitResource(
      `${name}-commit`,
      {
        owner: args.owner,
        repository: repo ? repo.name : args.repository,
        branch: args.branch,
        files: args.files,
        message: `flux-multi-tenancy: ${args.environment}`,
        overwriteShared: args.overwriteShared ?? false,
        token: pulumi.secret(args.token),
        apiUrl: "",
      },
      { parent: this },
    );
    this.revision = this.commit.revision;
    if (repo) {
      // The branch Flux syncs is the repository's default (pull requests, the GitHub UI); the commit made it exist.
      new github.BranchDefault(
        `${name}-default-branch`,
        { repository: repo.name, branch: args.branch },
        { ...gh, dependsOn: [this.commit], retainOnDelete: true },
      );
    }
    this.deployKey = new DeployKey(
      `${name}-flux`,
      { repository: repo ? repo.name : args.repository, title: `flux-${args.environment}`, rotation: args.keyRotation ?? "", dependsOn: [this.commit] },
      { parent: this, providers: [args.githubProvider] },
    );
    this.secretData = this.deployKey.secretData;
    this.registerOutputs({ url: this.url, htmlUrl: this.htmlUrl, revision: this.revision });
  }
}
