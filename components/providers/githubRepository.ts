// Dynamic provider for a GitHub repository the program creates: created once, kept on destroy, and adopted again when
// a later up (after a destroy, or a tenant removed and added back) finds the repository it created before.
import * as pulumi from "@pulumi/pulumi";
import { currentToken, type DynamicArgs } from "./exec";
import { githubClient, status } from "./github";

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
  /** GitHub token; "" reads GITHUB_TOKEN. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

export interface GitHubRepositoryOutputs extends GitHubRepositoryInputs {
  readonly htmlUrl: string;
  /** Whether this resource found the repository already there (and so took it over) rather than creating it. */
  readonly adopted: boolean;
}

export function markedDescription(description: string): string {
  return `${description} ${CREATED_MARK}`;
}

/** Whether a repository's description says the program created it (now, or before the mark existed). */
export function createdByProgram(description: string | null | undefined): boolean {
  const d = (description ?? "").trim();
  return d.endsWith(CREATED_MARK) || EARLIER_DESCRIPTIONS.some((re) => re.test(d));
}

/** Creates the repository with a first commit (so it is never empty), in an organisation or as the token's user. */
async function createRepository(inputs: GitHubRepositoryInputs): Promise<GitHubRepositoryOutputs> {
  const gh = githubClient(inputs);
  // "internal" (GitHub Enterprise organisations) is missing from Octokit's types, not from the API.
  const visibility = inputs.visibility as "private" | "public";
  const settings = { name: inputs.name, visibility, auto_init: true, description: markedDescription(inputs.description) };
  try {
    try {
      const { data } = await gh.request("POST /orgs/{org}/repos", { org: inputs.owner, ...settings });
      return { ...inputs, htmlUrl: data.html_url, adopted: false };
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
      const { data } = await gh.request("POST /user/repos", settings);
      return { ...inputs, htmlUrl: data.html_url, adopted: false };
    }
  } catch (e) {
    if (status(e) !== 422) throw e;
    // The name is taken: by the repository this program created before (kept on destroy), or by someone else's.
    const { data } = await gh.rest.repos.get({ owner: inputs.owner, repo: inputs.name });
    if (!createdByProgram(data.description)) {
      throw new Error(
        `GitHub repository ${inputs.owner}/${inputs.name} already exists and flux-multi-tenancy did not create it (its description does not end with "${CREATED_MARK}"); to use it, set create: false to adopt it, or choose another name`,
        { cause: e },
      );
    }
    return { ...inputs, htmlUrl: data.html_url, adopted: true };
  }
}

export const githubRepositoryProvider: pulumi.dynamic.ResourceProvider<GitHubRepositoryInputs, GitHubRepositoryOutputs> = {
  async diff(_id, olds, news) {
    const replaces = olds.owner.toLowerCase() !== news.owner.toLowerCase() || olds.name !== news.name ? ["name"] : [];
    const changes = replaces.length > 0 || olds.visibility !== news.visibility || olds.description !== news.description || olds.token !== news.token;
    return { changes, replaces };
  },
  async create(inputs) {
    return { id: `${inputs.owner}/${inputs.name}`, outs: await createRepository(inputs) };
  },
  async read(id, props) {
    const p = props as GitHubRepositoryOutputs;
    try {
      const { data } = await githubClient({ ...p, token: currentToken(p.token) }).rest.repos.get({ owner: p.owner, repo: p.name });
      return { id, props: { ...p, visibility: (data.visibility as GitHubRepositoryInputs["visibility"]) ?? p.visibility } };
    } catch (e) {
      if (status(e) === 404) return { id: "", props: {} as GitHubRepositoryOutputs }; // deleted out of band: the next up creates it
      throw e;
    }
  },
  async update(_id, olds, news) {
    if (olds.visibility !== news.visibility || olds.description !== news.description) {
      await githubClient(news).rest.repos.update({
        owner: news.owner,
        repo: news.name,
        visibility: news.visibility as "private" | "public",
        description: markedDescription(news.description),
      });
    }
    return { outs: { ...olds, ...news } };
  },
  // Kept on destroy: the fleet repository may serve other stacks, and a tenant's repository is its tenant's.
};

/** A GitHub repository created (or found again) by the program, never deleted by it. */
export class GitHubRepositoryResource extends pulumi.dynamic.Resource {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly htmlUrl: pulumi.Output<string>;

  constructor(name: string, args: DynamicArgs<GitHubRepositoryInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      githubRepositoryProvider,
      name,
      { ...args, htmlUrl: undefined, adopted: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "GitHubRepository",
    );
  }
}
