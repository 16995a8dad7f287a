// Dynamic provider for a GitHub deploy key, on the program's own GitHub client (one token rule, one throttle, the
// requests held to GitHub's description in the tests). It takes over the keys pulumi-github registered before.
import * as pulumi from "@pulumi/pulumi";
import type { DynamicArgs } from "./exec";
import { githubClient, githubMessage, status } from "./github";
import { byReference } from "./reference";

export interface GitHubDeployKeyInputs {
  readonly owner: string;
  readonly repository: string;
  /** Title shown on GitHub. */
  readonly title: string;
  /** The OpenSSH public key. */
  readonly key: string;
  /** Whether the key may only read; asked for explicitly (GitHub's default is a key that can push). */
  readonly readOnly: boolean;
  /** GitHub token (github:token); "" for GITHUB_TOKEN, as githubToken says. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

export interface GitHubDeployKeyOutputs extends GitHubDeployKeyInputs {
  /** GitHub's id of the key. */
  readonly keyId: number;
}

/** `<repository>:<key id>`, the id pulumi-github gave a deploy key, kept so the keys it registered are taken over as they are. */
function keyIdOf(id: string): number | undefined {
  const m = /:(\d+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

/** A public key without its comment: what GitHub compares and reports. */
function keyMaterial(key: string): string {
  return key.trim().split(/\s+/).slice(0, 2).join(" ");
}

/** The repository's deploy key with this public key, if there is one. */
async function findKey(inputs: GitHubDeployKeyInputs): Promise<{ id: number; read_only: boolean; title: string } | undefined> {
  const gh = githubClient(inputs);
  const keys = await gh.paginate(gh.rest.repos.listDeployKeys, { owner: inputs.owner, repo: inputs.repository, per_page: 100 });
  return keys.find((k) => keyMaterial(k.key) === keyMaterial(inputs.key));
}

/** State written by pulumi-github (its outputs, without this provider's fields): taken over by an update, which writes none to GitHub. */
function fromPulumiGitHub(olds: Partial<GitHubDeployKeyOutputs>): boolean {
  return olds.keyId === undefined;
}

export const githubDeployKeyProvider: pulumi.dynamic.ResourceProvider<GitHubDeployKeyInputs, GitHubDeployKeyOutputs> = {
  async diff(_id, olds, news) {
    // A key cannot be edited on GitHub: another key, title, read-only flag or repository is another key.
    const identity: (keyof GitHubDeployKeyInputs)[] = ["repository", "title", "readOnly"];
    const replaces = identity.filter((k) => olds[k] !== news[k]);
    if (keyMaterial(olds.key ?? "") !== keyMaterial(news.key)) replaces.push("key");
    // pulumi-github's state has no owner (its provider had it): the owner changes nothing then.
    if (olds.owner !== undefined && olds.owner.toLowerCase() !== news.owner.toLowerCase()) replaces.push("owner");
    const changes = replaces.length > 0 || fromPulumiGitHub(olds) || olds.token !== news.token || olds.apiUrl !== news.apiUrl;
    return { changes, replaces };
  },
  async create(inputs) {
    const gh = githubClient(inputs);
    try {
      const { data } = await gh.rest.repos.createDeployKey({
        owner: inputs.owner,
        repo: inputs.repository,
        title: inputs.title,
        key: inputs.key,
        read_only: inputs.readOnly,
      });
      return { id: `${inputs.repository}:${data.id}`, outs: { ...inputs, keyId: data.id, readOnly: data.read_only } };
    } catch (e) {
      if (status(e) !== 422) throw e;
      // Already there (an earlier create that failed after GitHub added it): the same key on this repository is this one.
      const found = await findKey(inputs);
      if (!found) throw new Error(`GitHub refused the deploy key ${inputs.title} on ${inputs.owner}/${inputs.repository}: ${githubMessage(e)}`, { cause: e });
      return { id: `${inputs.repository}:${found.id}`, outs: { ...inputs, keyId: found.id, readOnly: found.read_only } };
    }
  },
  async read(id, props) {
    const p = props as GitHubDeployKeyOutputs;
    const keyId = p.keyId ?? keyIdOf(id);
    if (keyId === undefined) return { id, props: p };
    try {
      const { data } = await githubClient(p).rest.repos.getDeployKey({ owner: p.owner, repo: p.repository, key_id: keyId });
      // What GitHub reports: a key made writable or retitled there shows as a difference, and is replaced.
      return { id, props: { ...p, keyId, title: data.title, readOnly: data.read_only } };
    } catch (e) {
      if (status(e) === 404) return { id: "", props: {} as GitHubDeployKeyOutputs }; // deleted out of band: the next up adds it
      throw e;
    }
  },
  async update(id, olds, news) {
    // Taking over pulumi-github's key, or recording a new token or API URL: nothing is written to GitHub.
    const keyId = olds.keyId ?? keyIdOf(id) ?? (await findKey(news))?.id;
    if (keyId === undefined) throw new Error(`the deploy key ${id} is not on ${news.owner}/${news.repository} any more: run pulumi refresh, then up`);
    return { outs: { ...news, keyId } };
  },
  async delete(id, props) {
    const keyId = props.keyId ?? keyIdOf(id);
    if (keyId === undefined) return;
    try {
      await githubClient(props).rest.repos.deleteDeployKey({ owner: props.owner, repo: props.repository, key_id: keyId });
    } catch (e) {
      if (status(e) !== 404) throw e; // already gone
    }
  },
};

/** A deploy key on a GitHub repository. */
export class GitHubDeployKeyResource extends pulumi.dynamic.Resource {
  declare public readonly keyId: pulumi.Output<number>;
  declare public readonly readOnly: pulumi.Output<boolean>;

  constructor(name: string, args: DynamicArgs<GitHubDeployKeyInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("githubDeployKey", githubDeployKeyProvider),
      name,
      { ...args, keyId: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "GitHubDeployKey",
    );
  }
}
