// Dynamic provider for a GitHub repository the program creates: created once, kept on destroy, and adopted again when
// a later up (after a destroy, or a tenant removed and added back) finds the repository it created before.
import * as pulumi from "@pulumi/pulumi";
import type { DynamicArgs } from "./exec";
import { githubClient, githubMessage, nameAlreadyExists, status } from "./github";
import { byReference } from "./reference";

/** Ends the description of every repository the program creates: how a later up knows the repository is its own. */
export const CREATED_MARK = "(created by flux-multi-tenancy)";
/** Descriptions the program wrote before it added the mark. */
const EARLIER_DESCRIPTIONS = [/^Fleet repository: Flux multi-tenancy layout$/, /^Flux tenant [a-z0-9-]+$/];

export interface GitHubRepositoryInputs {
  readonly owner: string;
  readonly name: string;
  readonly visibility: "private" | "internal" | "public";
  /** What the repository is for; the program's mark is added. */
  readonly description: string;
  /** GitHub token (github:token); "" for GITHUB_TOKEN, as githubToken says. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

export interface GitHubRepositoryOutputs extends GitHubRepositoryInputs {
  readonly htmlUrl: string;
  /** Whether this resource found the repository already there (and so took it over) rather than creating it. */
  readonly adopted: boolean;
  /** The visibility GitHub reports for the repository (what the policy pack judges), read after every write and refresh. */
  readonly reportedVisibility: string;
}

export function markedDescription(description: string): string {
  return `${description} ${CREATED_MARK}`;
}

/** Whether a repository's description says the program created it (now, or before the mark existed). */
export function createdByProgram(description: string | null | undefined): boolean {
  const d = (description ?? "").trim();
  return d.endsWith(CREATED_MARK) || EARLIER_DESCRIPTIONS.some((re) => re.test(d));
}

/** A repository's visibility as GitHub reports it: `visibility` where the server gives it, else `private`. */
export function reportedVisibility(data: { visibility?: string; private?: boolean }): string {
  return data.visibility ?? (data.private ? "private" : "public");
}

/**
 * Creates the repository with a first commit (so it is never empty), in an organisation or as the token's user.
 * Each endpoint gets what GitHub reads there: `/user/repos` knows only `private` (default false: public!);
 * an organisation reads `visibility` (internal only in an enterprise's organisations), and `private` as well, which
 * a server that ignores `visibility` still honours, so a repository is never public unless the stack asked.
 */
async function createRepository(
  inputs: GitHubRepositoryInputs,
): Promise<{ data: { html_url: string; visibility?: string; private: boolean }; adopted: boolean }> {
  const gh = githubClient(inputs);
  const settings = { name: inputs.name, auto_init: true, description: markedDescription(inputs.description), private: inputs.visibility !== "public" };
  try {
    try {
      // "internal" (GitHub Enterprise organisations) is missing from Octokit's types, not from GitHub Enterprise's API.
      const visibility = inputs.visibility as "private" | "public";
      return { data: (await gh.request("POST /orgs/{org}/repos", { org: inputs.owner, ...settings, visibility })).data, adopted: false };
    } catch (e) {
      if (status(e) !== 404) throw e;
      // Not an organisation: a user's repository, which only that user's token can create.
      const { data: me } = await gh.rest.users.getAuthenticated();
      if (me.login.toLowerCase() !== inputs.owner.toLowerCase()) {
        throw new Error(
          `${inputs.owner} is not an organisation the token can create repositories in, and the token belongs to ${me.login}: use a token of ${inputs.owner}, or of an owner of the organisation`,
          { cause: e },
        );
      }
      if (inputs.visibility === "internal") {
        throw new Error(
          `${inputs.owner} is a user, and internal repositories exist only in organisations of an enterprise account: make ${inputs.name} private or public`,
          { cause: e },
        );
      }
      return { data: (await gh.request("POST /user/repos", settings)).data, adopted: false };
    }
  } catch (e) {
    // Only GitHub's documented "name already exists" means the repository is there; any other refusal stands, in GitHub's words.
    if (!nameAlreadyExists(e)) {
      if (status(e) === 422 || status(e) === 403) throw new Error(`GitHub refused to create ${inputs.owner}/${inputs.name}: ${githubMessage(e)}`, { cause: e });
      throw e;
    }
    // The name is taken: by the repository this program created before (kept on destroy), or by someone else's.
    const { data } = await gh.rest.repos.get({ owner: inputs.owner, repo: inputs.name });
    if (!createdByProgram(data.description)) {
      throw new Error(
        `GitHub repository ${inputs.owner}/${inputs.name} already exists and flux-multi-tenancy did not create it (its description does not end with "${CREATED_MARK}"); to use it, set create: false to adopt it, or choose another name`,
        { cause: e },
      );
    }
    return { data, adopted: true };
  }
}

/**
 * Sets the visibility the stack asked for where GitHub reports another (a server that ignored `visibility`, a
 * repository found again after the stack changed its mind, a change made on GitHub), and returns what GitHub then reports.
 */
async function withAskedVisibility(inputs: GitHubRepositoryInputs, reported: string): Promise<string> {
  if (reported === inputs.visibility) return reported;
  const visibility = inputs.visibility as "private" | "public";
  const { data } = await githubClient(inputs).rest.repos.update({
    owner: inputs.owner,
    repo: inputs.name,
    visibility,
    private: inputs.visibility !== "public",
  });
  const now = reportedVisibility(data);
  if (now !== inputs.visibility) {
    throw new Error(
      `GitHub reports ${inputs.owner}/${inputs.name} as ${now}, not ${inputs.visibility} as asked: set its visibility on GitHub, or in the stack's config`,
    );
  }
  return now;
}

export const githubRepositoryProvider: pulumi.dynamic.ResourceProvider<GitHubRepositoryInputs, GitHubRepositoryOutputs> = {
  async diff(_id, olds, news) {
    const replaces = olds.owner.toLowerCase() !== news.owner.toLowerCase() || olds.name !== news.name ? ["name"] : [];
    // Against what GitHub reported at the last write or refresh: a change made on GitHub is set back.
    const reported = olds.reportedVisibility ?? olds.visibility;
    const changes = replaces.length > 0 || reported !== news.visibility || olds.description !== news.description || olds.token !== news.token;
    return { changes, replaces };
  },
  async create(inputs) {
    const { data, adopted } = await createRepository(inputs);
    const visibility = await withAskedVisibility(inputs, reportedVisibility(data));
    return { id: `${inputs.owner}/${inputs.name}`, outs: { ...inputs, htmlUrl: data.html_url, adopted, reportedVisibility: visibility } };
  },
  async read(id, props) {
    const p = props as GitHubRepositoryOutputs;
    try {
      const { data } = await githubClient(p).rest.repos.get({ owner: p.owner, repo: p.name });
      // What GitHub reports: a change made on GitHub shows as a difference, which the next up sets back.
      return { id, props: { ...p, reportedVisibility: reportedVisibility(data) } };
    } catch (e) {
      if (status(e) === 404) return { id: "", props: {} as GitHubRepositoryOutputs }; // deleted out of band: the next up creates it
      throw e;
    }
  },
  async update(_id, olds, news) {
    let reported = olds.reportedVisibility ?? olds.visibility;
    if (olds.description !== news.description) {
      const { data } = await githubClient(news).rest.repos.update({ owner: news.owner, repo: news.name, description: markedDescription(news.description) });
      reported = reportedVisibility(data);
    }
    reported = await withAskedVisibility(news, reported);
    return { outs: { ...olds, ...news, reportedVisibility: reported } };
  },
  // Kept on destroy: the fleet repository may serve other stacks, and a tenant's repository is its tenant's.
};

/** A GitHub repository created (or found again) by the program, never deleted by it. */
export class GitHubRepositoryResource extends pulumi.dynamic.Resource {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly htmlUrl: pulumi.Output<string>;

  constructor(name: string, args: DynamicArgs<GitHubRepositoryInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("githubRepository", githubRepositoryProvider),
      name,
      { ...args, htmlUrl: undefined, adopted: undefined, reportedVisibility: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "GitHubRepository",
    );
  }
}
