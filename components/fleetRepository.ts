// The fleet repository on GitHub: created (private) or adopted, this stack's files committed, a read-only deploy key for Flux.
import * as pulumi from "@pulumi/pulumi";
import type { GitHubConfig } from "../config";
import { DeployKey } from "./deployKey";
import { GitCommitResource } from "./providers/gitCommit";
import { GitHubDefaultBranchResource } from "./providers/githubDefaultBranch";
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
  /** GitHub token (github:token); "" for GITHUB_TOKEN. */
  readonly token: pulumi.Input<string>;
  /** The GitHub the repository is on: github.com or a GitHub Enterprise Server. */
  readonly github: GitHubConfig;
  /** The SSH URL Flux clones (the fleet's, from config). */
  readonly url: string;
  /** known_hosts lines of other SSH hosts (a GitHub Enterprise Server's), for Flux's Secret. */
  readonly knownHosts?: string;
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
            apiUrl: args.github.apiUrl,
          },
          { parent: this },
        )
      : undefined;
    this.url = args.url;
    this.htmlUrl = pulumi.output(`https://${args.github.host}/${args.owner}/${args.repository}`);
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
        apiUrl: args.github.apiUrl,
      },
      { parent: this },
    );
    this.revision = this.commit.revision;
    if (repo) {
      // The branch Flux syncs is the repository's default (pull requests, the GitHub UI); the commit made it exist.
      // pulumi-github's default branch, set before, is taken over under the alias; kept on delete, as it was.
      new GitHubDefaultBranchResource(
        `${name}-default-branch`,
        { owner: args.owner, repository: repo.name, branch: args.branch, token: pulumi.secret(args.token), apiUrl: args.github.apiUrl },
        { parent: this, dependsOn: [this.commit], aliases: [{ type: "github:index/branchDefault:BranchDefault" }] },
      );
    }
    this.deployKey = new DeployKey(
      `${name}-flux`,
      {
        github: { owner: args.owner, repository: repo ? repo.name : args.repository, token: args.token, apiUrl: args.github.apiUrl },
        title: `flux-${args.environment}`,
        rotation: args.keyRotation ?? "",
        knownHosts: args.knownHosts,
        dependsOn: [this.commit],
      },
      { parent: this },
    );
    this.secretData = this.deployKey.secretData;
    this.registerOutputs({ url: this.url, htmlUrl: this.htmlUrl, revision: this.revision });
  }
}
