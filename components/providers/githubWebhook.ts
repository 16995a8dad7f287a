// Dynamic provider for a GitHub repository webhook: push events to a Flux Receiver, signed with the Receiver's token
// (GitHub's X-Hub-Signature-256, which the Receiver checks). On the program's own GitHub client, as the deploy keys.
import * as pulumi from "@pulumi/pulumi";
import type { DynamicArgs } from "./exec";
import { githubClient, githubMessage, status } from "./github";
import { byReference } from "./reference";

export interface GitHubWebhookInputs {
  readonly owner: string;
  readonly repository: string;
  /** The Receiver's URL: webhookBaseUrl and its /hook/ path. */
  readonly url: string;
  /** The Receiver's token, which GitHub signs each delivery with; secret. */
  readonly secret: string;
  /** GitHub token (github:token); "" for GITHUB_TOKEN, as githubToken says. */
  readonly token: string;
  /** GitHub API URL; "" for api.github.com. */
  readonly apiUrl: string;
}

export interface GitHubWebhookOutputs extends GitHubWebhookInputs {
  readonly hookId: number;
}

/** What the program asks of every hook it registers: push events, JSON, TLS verified, active. */
function hookConfig(inputs: GitHubWebhookInputs) {
  return { config: { url: inputs.url, content_type: "json", secret: inputs.secret, insecure_ssl: "0" }, events: ["push"], active: true };
}

export const githubWebhookProvider: pulumi.dynamic.ResourceProvider<GitHubWebhookInputs, GitHubWebhookOutputs> = {
  async diff(_id, olds, news) {
    const replaces = (["owner", "repository"] as const).filter((k) => olds[k] !== news[k]);
    const changes = replaces.length > 0 || (["url", "secret", "token", "apiUrl"] as const).some((k) => olds[k] !== news[k]);
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async create(inputs) {
    const gh = githubClient(inputs);
    try {
      const { data } = await gh.rest.repos.createWebhook({ owner: inputs.owner, repo: inputs.repository, name: "web", ...hookConfig(inputs) });
      return { id: `${inputs.repository}:${data.id}`, outs: { ...inputs, hookId: data.id } };
    } catch (e) {
      if (status(e) !== 422) throw e;
      // "Hook already exists on this repository": one to this URL, left by an earlier create that failed after GitHub added it.
      const hooks = await gh.paginate(gh.rest.repos.listWebhooks, { owner: inputs.owner, repo: inputs.repository, per_page: 100 });
      const found = hooks.find((h) => h.config.url === inputs.url);
      if (!found) throw new Error(`GitHub refused the webhook to ${inputs.url} on ${inputs.owner}/${inputs.repository}: ${githubMessage(e)}`, { cause: e });
      await gh.rest.repos.updateWebhook({ owner: inputs.owner, repo: inputs.repository, hook_id: found.id, ...hookConfig(inputs) });
      return { id: `${inputs.repository}:${found.id}`, outs: { ...inputs, hookId: found.id } };
    }
  },
  async read(id, props) {
    const p = props as GitHubWebhookOutputs;
    try {
      const { data } = await githubClient(p).rest.repos.getWebhook({ owner: p.owner, repo: p.repository, hook_id: p.hookId });
      // GitHub never shows the secret back; a URL changed there shows as a difference, and is set again.
      return { id, props: { ...p, url: data.config.url ?? "" } };
    } catch (e) {
      if (status(e) === 404) return { id: "", props: {} as GitHubWebhookOutputs }; // deleted out of band: the next up adds it
      throw e;
    }
  },
  async update(_id, olds, news) {
    await githubClient(news).rest.repos.updateWebhook({ owner: news.owner, repo: news.repository, hook_id: olds.hookId, ...hookConfig(news) });
    return { outs: { ...news, hookId: olds.hookId } };
  },
  async delete(_id, props) {
    try {
      await githubClient(props).rest.repos.deleteWebhook({ owner: props.owner, repo: props.repository, hook_id: props.hookId });
    } catch (e) {
      if (status(e) !== 404) throw e; // already gone
    }
  },
};

/** A push webhook on a GitHub repository, to a Flux Receiver. */
export class GitHubWebhookResource extends pulumi.dynamic.Resource {
  declare public readonly hookId: pulumi.Output<number>;

  constructor(name: string, args: DynamicArgs<GitHubWebhookInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("githubWebhook", githubWebhookProvider),
      name,
      { ...args, hookId: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["secret", "token"] }),
      "flux-multi-tenancy",
      "GitHubWebhook",
    );
  }
}
