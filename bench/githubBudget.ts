// The GitHub API budget of the program: its GitHub resources driven as the engine drives them, against the loopback API, requests counted.
import type * as pulumi from "@pulumi/pulumi";
import { gitCommitProvider } from "../components/providers/gitCommit";
import { githubDefaultBranchProvider } from "../components/providers/githubDefaultBranch";
import { githubDeployKeyProvider } from "../components/providers/githubDeployKey";
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
/** The program's GitHub providers, by resource type: every GitHub object is one of them, run as they are. */
const DYNAMIC_PROVIDERS: Record<string, pulumi.dynamic.ResourceProvider> = {
  [`${DYNAMIC}GitHubRepository`]: githubRepositoryProvider,
  [`${DYNAMIC}GitCommit`]: gitCommitProvider,
  [`${DYNAMIC}TenantSeed`]: tenantSeedProvider,
  [`${DYNAMIC}GitHubDeployKey`]: githubDeployKeyProvider,
  [`${DYNAMIC}GitHubDefaultBranch`]: githubDefaultBranchProvider,
};

interface Live {
  readonly r: Registered;
  id: string;
  state: Record<string, any>;
}

/** A stack's GitHub resources and their state, operated on as the engine does. */
class Engine {
  readonly live = new Map<string, Live>();
  constructor(private readonly gh: FakeGitHub) {}

  /** What the program registers, as the providers receive it: pointed at the loopback API. */
  private inputs(r: Registered): any {
    return { ...r.inputs, apiUrl: this.gh.url, token: "t" };
  }

  async create(r: Registered) {
    const result = await DYNAMIC_PROVIDERS[r.type].create(this.inputs(r));
    this.live.set(key(r), { r, id: result.id, state: result.outs! });
  }

  /** Refresh: `read` on every resource in the state (a provider without one keeps its state unread). */
  async refresh() {
    for (const l of this.live.values()) {
      const provider = DYNAMIC_PROVIDERS[l.r.type];
      if (provider.read) l.state = (await provider.read(l.id, l.state)).props!;
    }
  }

  /** The diff of a resource in the state against what the program registers now; an update when it changes. */
  async diffAndUpdate(r: Registered, update: boolean): Promise<boolean> {
    const l = this.live.get(key(r))!;
    const news = this.inputs(r);
    const provider = DYNAMIC_PROVIDERS[r.type];
    const changes = (await provider.diff!(l.id, l.state, news)).changes ?? false;
    if (changes && update) l.state = (await provider.update!(l.id, l.state, news)).outs!;
    return changes;
  }
}

const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
const isGitHub = (r: Registered) => r.type in DYNAMIC_PROVIDERS;

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
      for (const r of before.filter(isGitHub)) await engine.create(r);
    });

    const noopChanges: string[] = [];
    const noopPreview = await count(async () => {
      await engine.refresh();
      for (const r of before.filter(isGitHub)) if (await engine.diffAndUpdate(r, false)) noopChanges.push(key(r));
    });

    const fleet = before.find((r) => r.type === `${DYNAMIC}GitCommit`)!;
    const commitsBefore = gh.commitsOn(fleet.inputs.owner, fleet.inputs.repository, fleet.inputs.branch);
    const addOne = await count(async () => {
      await engine.refresh();
      for (const r of after.filter(isGitHub)) {
        if (engine.live.has(key(r))) await engine.diffAndUpdate(r, true);
        else await engine.create(r);
      }
    });
    const fleetCommits = gh.commitsOn(fleet.inputs.owner, fleet.inputs.repository, fleet.inputs.branch) - commitsBefore;
    // Every request the budget counted is one GitHub describes.
    const violations = gh.takeViolations();
    if (violations.length > 0) throw new Error(`requests outside GitHub's API description:\n  ${violations.join("\n  ")}`);
    return { tenants: n, fresh, noopPreview, addOne: { ...addOne, fleetCommits }, noopChanges };
  } finally {
    await gh.close();
  }
}
