// The GitHub API budget of the program: its GitHub resources driven as the engine drives them, against the loopback API, requests counted.
import type * as pulumi from "@pulumi/pulumi";
import { gitCommitProvider } from "../components/providers/gitCommit";
import { githubRepositoryProvider } from "../components/providers/githubRepository";
import { tenantSeedProvider } from "../components/providers/tenantSeed";
import { startFakeGitHub, type FakeGitHub } from "../test/fakeGitHub";
import { runProgram, type Registered } from "../test/mocks";

/** Requests of one scenario. */
export interface Requests {
  readonly reads: number;
  readonly writes: number;
}

export interface GitHubBudget {
  readonly tenants: number;
  /** A first `up` (empty state): every repository, commit, key and default branch created. */
  readonly fresh: Requests;
  /** A `preview` with nothing to change, `refresh: always`: every resource read, then diffed. */
  readonly noopPreview: Requests;
  /** An `up` adding one tenant to the fleet of `tenants`: refresh, then the new tenant and the fleet update. */
  readonly addOne: Requests & { readonly fleetCommits: number };
  /** Resources whose refreshed state still differs from the program (should be none): `type name`. */
  readonly noopChanges: string[];
}

const DYNAMIC = "pulumi-nodejs:dynamic/flux-multi-tenancy:";
const DEPLOY_KEY = "github:index/repositoryDeployKey:RepositoryDeployKey";
const BRANCH_DEFAULT = "github:index/branchDefault:BranchDefault";
const GITHUB_PROVIDER = "pulumi:providers:github";

/** The program's own GitHub providers, by resource type: run as they are. */
const DYNAMIC_PROVIDERS: Record<string, pulumi.dynamic.ResourceProvider> = {
  [`${DYNAMIC}GitHubRepository`]: githubRepositoryProvider,
  [`${DYNAMIC}GitCommit`]: gitCommitProvider,
  [`${DYNAMIC}TenantSeed`]: tenantSeedProvider,
};

/**
 * What the pulumi-github provider (the Terraform GitHub provider, bridged) sends per operation, from
 * its source (github/config.go, resource_github_repository_deploy_key.go, resource_github_branch_default.go):
 * configure: GET /orgs/{owner} (once per provider and operation); deploy key: create = POST keys then
 * its read, read = GET keys/{id} (with the ETag of the last read: a 304 does not count against the
 * hourly limit, counted here as a read all the same); default branch: create = PATCH the repository
 * then its read, read = GET the repository. Replayed against the loopback API so they are counted there.
 */
class PulumiGitHubModel {
  constructor(private readonly gh: FakeGitHub) {}

  private async call(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.gh.url}${path}`, {
      method,
      headers: { authorization: "token t", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  configure(owner: string) {
    return this.call("GET", `/orgs/${owner}`);
  }

  async create(r: Registered, owner: string): Promise<Record<string, unknown>> {
    if (r.type === DEPLOY_KEY) {
      const key = await this.call("POST", `/repos/${owner}/${r.inputs.repository}/keys`, { title: r.inputs.title, key: r.inputs.key, read_only: true });
      const state = { ...r.inputs, id: key.id };
      await this.read(r.type, state, owner);
      return state;
    }
    await this.call("PATCH", `/repos/${owner}/${r.inputs.repository}`, { default_branch: r.inputs.branch });
    await this.read(r.type, r.inputs, owner);
    return r.inputs;
  }

  async read(type: string, state: Record<string, unknown>, owner: string): Promise<void> {
    if (type === DEPLOY_KEY) await this.call("GET", `/repos/${owner}/${state.repository}/keys/${state.id}`);
    else await this.call("GET", `/repos/${owner}/${state.repository}`);
  }
}

interface Live {
  readonly r: Registered;
  state: Record<string, any>;
}

/** A stack's GitHub resources and their state, operated on as the engine does. */
class Engine {
  readonly live = new Map<string, Live>();
  readonly model: PulumiGitHubModel;
  constructor(private readonly gh: FakeGitHub) {
    this.model = new PulumiGitHubModel(gh);
  }

  /** What the program registers, as the providers receive it: pointed at the loopback API. */
  private inputs(r: Registered): any {
    return r.type.startsWith(DYNAMIC) ? { ...r.inputs, apiUrl: this.gh.url, token: "t" } : r.inputs;
  }

  private owner(r: Registered, resources: readonly Registered[]): string {
    const urn = r.provider.replace(/::[^:]*$/, "");
    return resources.find((p) => p.urn === urn)?.inputs.owner ?? "";
  }

  /** One GET /orgs per GitHub provider: what each operation (preview, update) pays to configure them. */
  async configure(resources: readonly Registered[]) {
    for (const p of resources.filter((r) => r.type === GITHUB_PROVIDER)) await this.model.configure(p.inputs.owner);
  }

  async create(r: Registered, resources: readonly Registered[]) {
    const provider = DYNAMIC_PROVIDERS[r.type];
    let state: Record<string, any>;
    if (provider) state = (await provider.create(this.inputs(r))).outs!;
    else if (r.type === DEPLOY_KEY || r.type === BRANCH_DEFAULT) state = await this.model.create(r, this.owner(r, resources));
    else return;
    this.live.set(key(r), { r, state });
  }

  /** Refresh: `read` on every resource in the state (a provider without one keeps its state unread). */
  async refresh(resources: readonly Registered[]) {
    for (const l of this.live.values()) {
      const provider = DYNAMIC_PROVIDERS[l.r.type];
      if (!provider) await this.model.read(l.r.type, l.state, this.owner(l.r, resources));
      else if (provider.read) l.state = (await provider.read("id", l.state)).props!;
    }
  }

  /** The diff of a resource in the state against what the program registers now; an update when it changes. */
  async diffAndUpdate(r: Registered, update: boolean): Promise<boolean> {
    const l = this.live.get(key(r))!;
    const news = this.inputs(r);
    const provider = DYNAMIC_PROVIDERS[r.type];
    let changes: boolean;
    if (provider) {
      changes = (await provider.diff!("id", l.state, news)).changes ?? false;
      if (changes && update) l.state = (await provider.update!("id", l.state, news)).outs!;
    } else {
      changes = Object.entries(r.inputs).some(([k, v]) => JSON.stringify(l.state[k]) !== JSON.stringify(v));
      if (changes) throw new Error(`${key(r)}: the budget has no model for updating this resource`);
    }
    return changes;
  }
}

const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
const isGitHub = (r: Registered) => r.type in DYNAMIC_PROVIDERS || r.type === DEPLOY_KEY || r.type === BRANCH_DEFAULT;

/**
 * Runs the program for `raw(n)` and `raw(n + 1)` under mocks, then drives its GitHub resources against a
 * loopback GitHub API: a fresh up, a no-op preview with refresh, and an up adding the (n+1)th tenant.
 * `raw(count)` is the stack config with `count` tenants (the fleet on GitHub, owner my-org).
 */
export async function measureGitHubBudget(
  n: number,
  raw: (count: number) => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<GitHubBudget> {
  const before = (await runProgram("staging", await raw(n))).resources;
  const after = (await runProgram("staging", await raw(n + 1))).resources;
  const gh = await startFakeGitHub();
  try {
    const engine = new Engine(gh);
    const count = async (f: () => Promise<void>): Promise<Requests> => {
      const [r, w] = [gh.reads().length, gh.writes().length];
      await f();
      return { reads: gh.reads().length - r, writes: gh.writes().length - w };
    };

    const fresh = await count(async () => {
      await engine.configure(before);
      for (const r of before.filter(isGitHub)) await engine.create(r, before);
    });

    const noopChanges: string[] = [];
    const noopPreview = await count(async () => {
      await engine.configure(before);
      await engine.refresh(before);
      for (const r of before.filter(isGitHub)) if (await engine.diffAndUpdate(r, false)) noopChanges.push(key(r));
    });

    const fleet = before.find((r) => r.type === `${DYNAMIC}GitCommit`)!;
    const commitsBefore = gh.commitsOn(fleet.inputs.owner, fleet.inputs.repository, fleet.inputs.branch);
    const addOne = await count(async () => {
      await engine.configure(after);
      await engine.refresh(after);
      for (const r of after.filter(isGitHub)) {
        if (engine.live.has(key(r))) await engine.diffAndUpdate(r, true);
        else await engine.create(r, after);
      }
    });
    const fleetCommits = gh.commitsOn(fleet.inputs.owner, fleet.inputs.repository, fleet.inputs.branch) - commitsBefore;
    // Every request the budget counted is one GitHub describes (the pulumi-github replays too).
    const violations = gh.takeViolations();
    if (violations.length > 0) throw new Error(`requests outside GitHub's API description:\n  ${violations.join("\n  ")}`);
    return { tenants: n, fresh, noopPreview, addOne: { ...addOne, fleetCommits }, noopChanges };
  } finally {
    await gh.close();
  }
}
