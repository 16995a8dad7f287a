// Dynamic provider for a GitHub repository's default branch, on the program's own GitHub client. It takes over the
// default branch pulumi-github set before; like that one (retainOnDelete), it leaves the repository as it is on delete.
import * as pulumi from "@pulumi/pulumi";
import type { DynamicArgs } from "./exec";
import { githubClient, githubMessage, status } from "./github";
import { byReference } from "./reference";

export interface GitHubDefaultBranchInputs {
  readonly owner: string;
  readonly repository: string;
  /** The branch to make the default; it must exist. */
  readonly branch: string;
  /** GitHub token (github:token); "" for GITHUB_TOKEN, as githubToken says. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

async function setDefaultBranch(inputs: GitHubDefaultBranchInputs): Promise<void> {
  try {
    await githubClient(inputs).rest.repos.update({ owner: inputs.owner, repo: inputs.repository, default_branch: inputs.branch });
  } catch (e) {
    if (status(e) === 422)
      throw new Error(`GitHub refused ${inputs.branch} as the default branch of ${inputs.owner}/${inputs.repository}: ${githubMessage(e)}`, { cause: e });
    throw e;
  }
}

export const githubDefaultBranchProvider: pulumi.dynamic.ResourceProvider<GitHubDefaultBranchInputs, GitHubDefaultBranchInputs> = {
  async diff(_id, olds, news) {
    // pulumi-github's state has no owner (its provider had it): taken over by an update, which sets the same branch.
    const replaces =
      olds.repository !== news.repository || (olds.owner !== undefined && olds.owner.toLowerCase() !== news.owner.toLowerCase()) ? ["repository"] : [];
    const changes = replaces.length > 0 || olds.owner === undefined || olds.branch !== news.branch || olds.token !== news.token || olds.apiUrl !== news.apiUrl;
    return { changes, replaces };
  },
  async create(inputs) {
    await setDefaultBranch(inputs);
    return { id: inputs.repository, outs: inputs };
  },
  async read(id, props) {
    const p = props as GitHubDefaultBranchInputs;
    try {
      // What GitHub reports: a default branch changed there shows as a difference the next up sets back.
      const { data } = await githubClient(p).rest.repos.get({ owner: p.owner, repo: p.repository });
      return { id, props: { ...p, branch: data.default_branch } };
    } catch (e) {
      if (status(e) === 404) return { id: "", props: {} as GitHubDefaultBranchInputs };
      throw e;
    }
  },
  async update(_id, olds, news) {
    // Taking over pulumi-github's (the same branch), or a new token or API URL: nothing to write.
    if (olds.branch !== news.branch) await setDefaultBranch(news);
    return { outs: news };
  },
  // No delete: the repository keeps its default branch (other stacks may read it).
};

/** The default branch of a GitHub repository. */
export class GitHubDefaultBranchResource extends pulumi.dynamic.Resource {
  constructor(name: string, args: DynamicArgs<GitHubDefaultBranchInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("githubDefaultBranch", githubDefaultBranchProvider),
      name,
      args,
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "GitHubDefaultBranch",
    );
  }
}
