// The real Pulumi engine on the GitHub path: the shipped staging shape (fleet and tenants on GitHub, repositories the
// program creates, native admission policies) against the lab's GitHub, a GitHub Enterprise Server on loopback whose
// repositories Flux clones over SSH with the deploy keys the program registered through its API.
import * as assert from "assert/strict";
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { randomBytes } from "crypto";
import { run } from "../../components/providers/exec";
import { labInstallManifest } from "../fluxRelease";
import { fingerprint } from "../github";
import type { LabState } from "../state";
import { EngineStack, kustomizationReady, shortName } from "./engineStack";
import { getJson, lab, remoteFiles, Repo, tempDir, timings, waitFor } from "./support";
import { HttpsForwarder } from "./listener";
import { RUN, runPath } from "../layout";

const ENV = "lab";
const OWNER = "my-org";
const PROJECT = "flux-multi-tenancy";

/** The lab GitHub's REST API, as the stacks' token, trusting the lab's CA. */
function githubApi<T>(state: LabState, method: string, route: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${state.github.apiUrl}${route}`,
      { method, ca: fs.readFileSync(state.pki.caCert), headers: { authorization: "token lab-token" } },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () =>
          (res.statusCode ?? 0) >= 400
            ? reject(new Error(`${method} ${route}: ${res.statusCode} ${text}`))
            : resolve((text ? JSON.parse(text) : undefined) as T),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("the real Pulumi engine on the GitHub path: the lab's GitHub Enterprise Server, repositories the program creates", function () {
  const id = randomBytes(3).toString("hex");
  const stack = `lab-gh-${id}`;
  const keys = tempDir("engine-gh-keys");
  const steps: { step: string; seconds: number; writes: number; reads: number }[] = [];
  let state: LabState;
  let engine: EngineStack;

  const fleetRepo = `fleet-${id}`;
  const tenantRepo = (name: string) => `${name}-${id}`;
  const ok = (...args: string[]) => engine.ok(...args);
  const outputs = () => engine.outputs();
  const planned = () => engine.planned();
  const setConfig = (change: (config: Record<string, unknown>) => void) => engine.setConfig(change);

  /** The lab GitHub's request log so far: R and W lines. */
  const requestLog = () => fs.readFileSync(state.github.requests, "utf8").split("\n").filter(Boolean);

  /** Runs `what`, timing it and counting the GitHub requests it made into the closing list of steps. */
  async function step<T>(what: string, f: () => Promise<T>): Promise<T> {
    const t = Date.now();
    const seen = requestLog().length;
    const r = await f();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the server writes its log every 100 ms
    const made = requestLog().slice(seen);
    const count = (kind: string) => made.filter((l) => l.startsWith(kind)).length;
    steps.push({ step: what, seconds: (Date.now() - t) / 1000, writes: count("W "), reads: count("R ") });
    return r;
  }

  const tenant = (name: string) => ({ name, repository: { owner: OWNER, name: tenantRepo(name) } });

  const api = <T>(method: string, route: string) => githubApi<T>(state, method, route);

  async function deployKeys(repo: string): Promise<{ id: number; key: string; title: string; read_only: boolean }[]> {
    return api("GET", `/repos/${OWNER}/${repo}/keys`);
  }

  /** Whether a private key can read a repository over SSH on the lab's Git server (as Flux would, with a deploy key). */
  async function canRead(privateKey: string, repo: string): Promise<boolean> {
    const file = path.join(keys, `probe-${randomBytes(3).toString("hex")}`);
    fs.writeFileSync(file, privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`, { mode: 0o600 });
    const ssh = `ssh -F /dev/null -i ${file} -o IdentitiesOnly=yes -o UserKnownHostsFile=${state.git.knownHosts} -o StrictHostKeyChecking=yes`;
    try {
      await run("env", [`GIT_SSH_COMMAND=${ssh}`, "git", "ls-remote", `${state.git.url}/${OWNER}/${repo}`]);
      return true;
    } catch {
      return false;
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  before(async function () {
    state = lab().state;
    engine = new EngineStack(state, stack);
    await ok("stack", "init", "--secrets-provider", "passphrase");
    const manifest = await labInstallManifest();
    const sshPrefix = `ssh://git@${state.github.host}:${state.ports.git}/${OWNER}/`;
    setConfig((c) => {
      c[`${PROJECT}:environment`] = ENV;
      c[`${PROJECT}:cluster`] = { provider: "existing" };
      c[`${PROJECT}:flux`] = { manifests: manifest.file };
      c[`${PROJECT}:github`] = { host: state.github.host, apiUrl: state.github.apiUrl, sshPort: state.ports.git };
      c[`${PROJECT}:fleet`] = { owner: OWNER, repository: fleetRepo };
      // As the shipped staging stack: the GitHub organisation's repositories, and the starter layout's chart repository.
      c[`${PROJECT}:policies`] = { engine: "vap", allowedSourcePrefixes: [sshPrefix, "https://stefanprodan.github.io/podinfo/"] };
      c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b")];
      c[`${PROJECT}:knownHosts`] = fs.readFileSync(state.git.knownHosts, "utf8");
    });
    await ok("config", "set", "--secret", `${PROJECT}:kubeconfig`, "--", fs.readFileSync(state.kubeconfigs.admin, "utf8"));
    await ok("config", "set", "--secret", "github:token", "lab-token");
  });

  after(async function () {
    this.timeout(300_000);
    await engine?.remove();
    fs.rmSync(keys, { recursive: true, force: true });
    const lines = steps.map((x) => `${x.step}: ${x.seconds.toFixed(1)}s, GitHub ${x.writes} writes / ${x.reads} reads`);
    timings["engine on GitHub, step by step"] = `\n      ${lines.join("\n      ")}`;
    // For npm run bench: what the real engine cost on the GitHub path, at this stack's size.
    if (state) fs.writeFileSync(path.join(path.dirname(state.github.requests), "engine-steps.json"), JSON.stringify({ tenants: 2, steps }, null, 2) + "\n");
  });

  it("up from nothing creates and seeds the repositories through the API, registers read-only deploy keys, and brings every Kustomization Ready at the fleet revision", async () => {
    await step("up from nothing", () => ok("up", "--yes", "--skip-preview"));
    const out = await outputs();
    const revision = out.fleetRevision as string;
    assert.match(revision, /^main@sha1:[0-9a-f]{40}$/);
    assert.equal(out.fleetRepositoryUrl, `https://${state.github.host}/${OWNER}/${fleetRepo}`);
    for (const name of ["flux-system", "admission-policies", "tenants"]) {
      assert.equal((await kustomizationReady(state, "flux-system", name, { revision, seconds: 180 })).status?.lastAppliedRevision, revision, name);
    }
    for (const t of ["team-a", "team-b"]) await kustomizationReady(state, t, t, { seconds: 180 });
    // What GitHub holds: private repositories the program made (marked), the fleet's default branch, read-only keys.
    const fleet = await api<{ private: boolean; visibility: string; description: string; default_branch: string }>("GET", `/repos/${OWNER}/${fleetRepo}`);
    assert.deepEqual([fleet.private, fleet.visibility, fleet.default_branch], [true, "private", "main"]);
    assert.match(fleet.description, /\(created by flux-multi-tenancy\)$/);
    for (const repo of [fleetRepo, tenantRepo("team-a"), tenantRepo("team-b")]) {
      const list = await deployKeys(repo);
      assert.equal(list.length, 1, repo);
      assert.equal(list[0].read_only, true, repo);
    }
    // The seeded starter layout, as GitHub and the Git server both hold it.
    const seeded = await remoteFiles(state, `${OWNER}/${tenantRepo("team-a")}`);
    assert.ok(seeded.has("README.md") && seeded.has("base/podinfo-release.yaml") && seeded.has(`${ENV}/kustomization.yaml`), [...seeded.keys()].join(", "));
  });

  it("a no-op preview (--expect-no-changes, with refresh) and a second up change nothing", async () => {
    await step("no-op preview", () => ok("preview", "--expect-no-changes"));
    await ok("up", "--yes", "--skip-preview", "--expect-no-changes");
  });

  it("adding a tenant creates, seeds and keys its repository; removing it removes its key and files, and keeps its repository", async () => {
    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b"), tenant("team-c")]));
    const adding = await planned();
    for (const s of adding.filter((x) => x.op === "create")) assert.match(shortName(s.urn), /^tenant-team-c($|-)/, s.urn);
    await step("up adding a tenant", () => ok("up", "--yes", "--skip-preview"));
    await kustomizationReady(state, "team-c", "team-c", { seconds: 180 });
    assert.equal((await deployKeys(tenantRepo("team-c"))).length, 1);

    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b")]));
    await step("up removing it", () => ok("up", "--yes", "--skip-preview"));
    assert.deepEqual(await deployKeys(tenantRepo("team-c")), [], "its deploy key is gone from GitHub");
    assert.ok((await api("GET", `/repos/${OWNER}/${tenantRepo("team-c")}`)) !== undefined, "its repository is the tenant's, and stays");
    assert.deepEqual(
      [...(await remoteFiles(state, `${OWNER}/${fleetRepo}`)).keys()].filter((p) => p.includes("team-c")),
      [],
    );
  });

  it("a tenant's own commit is kept when the tenant is removed and added back: its repository is not seeded again", async () => {
    const repo = `${OWNER}/${tenantRepo("team-a")}`;
    const before = await remoteFiles(state, repo);
    // The tenant's work: a starter file changed, one deleted, one of its own (pushed with the lab's own key, as a developer would).
    const work = new Repo(state, repo, "main", true);
    const files = Object.fromEntries(before);
    files[`${ENV}/kustomization.yaml`] = files[`${ENV}/kustomization.yaml`].replace("resources:", "resources:\n  - notes.yaml");
    files[`${ENV}/notes.yaml`] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n  namespace: team-a\ndata:\n  by: tenant\n";
    delete files["production/podinfo-values.yaml"];
    await work.commit(files, "team-a: its own work");
    work.remove();
    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-b")]));
    await ok("up", "--yes", "--skip-preview");
    setConfig((c) => (c[`${PROJECT}:tenants`] = [tenant("team-a"), tenant("team-b")]));
    await step("up adding the tenant back", () => ok("up", "--yes", "--skip-preview"));
    const after = await remoteFiles(state, repo);
    assert.deepEqual(Object.fromEntries(after), files, "nothing written over the tenant's commit, nothing brought back");
    await kustomizationReady(state, "team-a", "team-a", { seconds: 180 });
    await waitFor("the tenant's own ConfigMap applied", 120, async () =>
      (await getJson(state, ["configmap", "-n", "team-a", "notes"])) ? { value: true } : { seen: "absent" },
    );
  });

  it("deployKeyRotation replaces every key on GitHub in one up; Flux reads with the new ones, and a deleted key stops working", async () => {
    const before = await deployKeys(fleetRepo);
    const oldSecret = await getJson<{ data: Record<string, string> }>(state, ["secret", "-n", "flux-system", "flux-system"]);
    const oldKey = Buffer.from(oldSecret!.data.identity, "base64").toString();
    assert.ok(await canRead(oldKey, fleetRepo), "the registered key reads the fleet");
    setConfig((c) => (c[`${PROJECT}:deployKeyRotation`] = "2026-11-30"));
    await step("up rotating every deploy key", () => ok("up", "--yes", "--skip-preview"));
    const after = await deployKeys(fleetRepo);
    assert.equal(after.length, 1);
    assert.notEqual(after[0].id, before[0].id);
    assert.notEqual(after[0].key, before[0].key);
    assert.equal(await canRead(oldKey, fleetRepo), false, "the key GitHub deleted no longer reads");
    const secret = await getJson<{ data: Record<string, string> }>(state, ["secret", "-n", "flux-system", "flux-system"]);
    assert.equal(fingerprint(Buffer.from(secret!.data["identity.pub"], "base64").toString()), fingerprint(after[0].key));
    const out = await outputs();
    await kustomizationReady(state, "flux-system", "flux-system", { revision: out.fleetRevision as string, seconds: 180 });
    // A deploy key reaches its own repository only.
    const newKey = Buffer.from(secret!.data.identity, "base64").toString();
    assert.equal(await canRead(newKey, fleetRepo), true);
    assert.equal(await canRead(newKey, tenantRepo("team-a")), false, "not another repository");
    await ok("preview", "--expect-no-changes");
  });

  it("destroy removes the keys and this stack's files and keeps the repositories; an up after it finds them again and works", async () => {
    await step("destroy", () => ok("destroy", "--yes", "--skip-preview"));
    for (const repo of [fleetRepo, tenantRepo("team-a"), tenantRepo("team-b")]) assert.deepEqual(await deployKeys(repo), [], repo);
    assert.deepEqual(
      [...(await remoteFiles(state, `${OWNER}/${fleetRepo}`)).keys()].filter((p) => p.startsWith("clusters/") || p.startsWith("tenants/")),
      [],
    );
    await step("up after destroy", () => ok("up", "--yes", "--skip-preview"));
    const out = await outputs();
    for (const name of ["flux-system", "tenants"])
      await kustomizationReady(state, "flux-system", name, { revision: out.fleetRevision as string, seconds: 180 });
    for (const t of ["team-a", "team-b"]) await kustomizationReady(state, t, t, { seconds: 180 });
  });

  it("push-to-deploy on GitHub: with webhookBaseUrl the program registers each repository's push webhook to its Receiver; a tenant's push is Ready within seconds, its delivery signed and checked by Flux", async () => {
    // notification-controller's webhook receiver behind an HTTPS front, as an Ingress would put it.
    const receiverPort = (JSON.parse(fs.readFileSync(runPath(RUN.flux, "ports.json"), "utf8")) as Record<string, Record<string, number>>)[
      "notification-controller"
    ]["http-webhook"];
    const front = new HttpsForwarder();
    await front.start(state, receiverPort);
    try {
      setConfig((c) => (c[`${PROJECT}:webhookBaseUrl`] = front.url));
      await step("up registering the push webhooks", () => ok("up", "--yes", "--skip-preview"));
      const hooks = JSON.parse(await ok("stack", "output", "receiverWebhooks", "--json", "--show-secrets")) as {
        fleet: { url: string; registered: boolean };
        tenants: Record<string, { url: string; registered: boolean }>;
      };
      const repos: Record<string, { url: string; registered: boolean }> = {
        [fleetRepo]: hooks.fleet,
        [tenantRepo("team-a")]: hooks.tenants["team-a"],
        [tenantRepo("team-b")]: hooks.tenants["team-b"],
      };
      for (const [repo, hook] of Object.entries(repos)) {
        assert.ok(hook.registered && hook.url.startsWith(`${front.url}/hook/`), `${repo}: ${JSON.stringify(hook)}`);
        const onGitHub = await api<{ config: { url: string; content_type: string }; events: string[]; active: boolean }[]>(
          "GET",
          `/repos/${OWNER}/${repo}/hooks`,
        );
        assert.deepEqual(
          onGitHub.map((h) => [h.config.url, h.config.content_type, h.events, h.active]),
          [[hook.url, "json", ["push"], true]],
          repo,
        );
      }

      // The tenant pushes; nobody asks Flux: the Git server delivers the push to the webhook, as GitHub would.
      const repo = `${OWNER}/${tenantRepo("team-a")}`;
      const work = new Repo(state, repo, "main", true);
      const files = Object.fromEntries(await remoteFiles(state, repo));
      files["pushed.txt"] = `${new Date().toISOString()}\n`;
      const t = Date.now();
      const revision = await work.commit(files, "team-a: a push");
      work.remove();
      await kustomizationReady(state, "team-a", "team-a", { revision, seconds: 180 });
      const pushToReadyS = (Date.now() - t) / 1000;
      timings["engine on GitHub: push to Ready through GitHub's webhook and the Receiver"] = `${pushToReadyS.toFixed(1)}s`;
      assert.ok(pushToReadyS < 30, `Ready ${pushToReadyS}s after the push: the source's interval (1m) did not bring it`);
      const delivered = front.forwarded.filter((f) => f.path === new URL(hooks.tenants["team-a"].url).pathname);
      assert.ok(delivered.length > 0, "the push was delivered to team-a's Receiver");
      assert.ok(
        delivered.every((d) => d.status === 200 && String(d.headers["x-hub-signature-256"]).startsWith("sha256=") && d.headers["x-github-event"] === "push"),
        JSON.stringify(delivered),
      );
    } finally {
      await front.stop();
    }
  });

  it("every request the program sent and every answer it got were within GitHub Enterprise Server's description", () => {
    assert.equal(fs.readFileSync(state.github.violations, "utf8"), "");
  });
});

describe("a stack made when pulumi-github kept its deploy keys and default branch moves to the program's own, without a replacement", function () {
  const id = randomBytes(3).toString("hex");
  const stack = `lab-gh-upgrade-${id}`;
  const fleetRepo = `fleet-upgrade-${id}`;
  let state: LabState;
  let engine: EngineStack;
  const ok = (...args: string[]) => engine.ok(...args);

  const keysOnGitHub = () => githubApi<{ id: number; key: string }[]>(state, "GET", `/repos/${OWNER}/${fleetRepo}/keys`);

  before(async function () {
    state = lab().state;
    engine = new EngineStack(state, stack);
    await ok("stack", "init", "--secrets-provider", "passphrase");
    const manifest = await labInstallManifest();
    engine.setConfig((c) =>
      Object.assign(c, {
        [`${PROJECT}:environment`]: "upgrade",
        [`${PROJECT}:cluster`]: { provider: "existing" },
        [`${PROJECT}:flux`]: { manifests: manifest.file },
        [`${PROJECT}:github`]: { host: state.github.host, apiUrl: state.github.apiUrl, sshPort: state.ports.git },
        [`${PROJECT}:fleet`]: { owner: OWNER, repository: fleetRepo },
        [`${PROJECT}:policies`]: { engine: "vap", allowedSourcePrefixes: [`ssh://git@${state.github.host}:${state.ports.git}/${OWNER}/`] },
        [`${PROJECT}:tenants`]: [],
        [`${PROJECT}:knownHosts`]: fs.readFileSync(state.git.knownHosts, "utf8"),
      }),
    );
    await ok("config", "set", "--secret", `${PROJECT}:kubeconfig`, "--", fs.readFileSync(state.kubeconfigs.admin, "utf8"));
    await ok("config", "set", "--secret", "github:token", "lab-token");
  });

  after(async function () {
    this.timeout(300_000);
    await engine?.remove();
  });

  it("the first up after the change takes over the key and the default branch under their aliases: an update, no new key on GitHub", async () => {
    await ok("up", "--yes", "--skip-preview");
    const before = await keysOnGitHub();
    assert.equal(before.length, 1);

    // The state as a stack of the earlier program holds them: pulumi-github's types, outputs and provider.
    type Res = {
      urn: string;
      type: string;
      id?: string;
      provider?: string;
      parent?: string;
      inputs?: Record<string, unknown>;
      outputs?: Record<string, unknown>;
      dependencies?: string[];
      propertyDependencies?: Record<string, string[]>;
      retainOnDelete?: boolean;
      custom?: boolean;
    };
    const exported = JSON.parse(await ok("stack", "export")) as { deployment: { resources: Res[] } };
    const resources = exported.deployment.resources;
    const providerUrn = `urn:pulumi:${stack}::${PROJECT}::pulumi:providers:github::github-${OWNER}`;
    const providerRef = `${providerUrn}::0c7a9a1e-2f3b-4c5d-8e6f-7a8b9c0d1e2f`;
    const renamed = new Map<string, string>();
    const legacy: Record<string, (r: Res) => Res> = {
      "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDeployKey": (r) => {
        const o = r.outputs as { key: string; title: string; repository: string };
        const fields = { key: o.key, readOnly: true, repository: o.repository, title: o.title };
        return {
          ...r,
          type: "github:index/repositoryDeployKey:RepositoryDeployKey",
          provider: providerRef,
          inputs: fields,
          outputs: { ...fields, id: r.id, etag: 'W/"lab"' },
        };
      },
      "pulumi-nodejs:dynamic/flux-multi-tenancy:GitHubDefaultBranch": (r) => {
        const o = r.outputs as { branch: string; repository: string };
        const fields = { branch: o.branch, repository: o.repository };
        return {
          ...r,
          type: "github:index/branchDefault:BranchDefault",
          provider: providerRef,
          retainOnDelete: true,
          inputs: fields,
          outputs: { ...fields, id: r.id, etag: 'W/"lab"', rename: false },
        };
      },
    };
    const rewritten = resources.map((r) => {
      const to = legacy[r.type];
      if (!to) return r;
      const old = to(r);
      old.urn = r.urn.replace(`${r.type}::`, `${old.type}::`);
      renamed.set(r.urn, old.urn);
      return old;
    });
    assert.equal(renamed.size, 2, "the fleet's deploy key and default branch");
    const fix = (u: string) => renamed.get(u) ?? u;
    for (const r of rewritten) {
      r.dependencies = r.dependencies?.map(fix);
      if (r.propertyDependencies) for (const k of Object.keys(r.propertyDependencies)) r.propertyDependencies[k] = r.propertyDependencies[k].map(fix);
      if (r.parent) r.parent = fix(r.parent);
    }
    const stackIndex = rewritten.findIndex((r) => r.type === "pulumi:pulumi:Stack");
    rewritten.splice(stackIndex + 1, 0, {
      urn: providerUrn,
      custom: true,
      id: providerRef.split("::").pop(),
      type: "pulumi:providers:github",
      inputs: { owner: OWNER, version: "6.15.0" },
      outputs: { owner: OWNER, version: "6.15.0" },
    });
    exported.deployment.resources = rewritten;
    const file = path.join(engine.workspace, "legacy-state.json");
    fs.writeFileSync(file, JSON.stringify(exported));
    await ok("stack", "import", "--file", file);

    // pulumi-github is not installed here, so this up does not refresh (with it installed, the refresh runs as before).
    const plan = await engine.planned("--refresh=false");
    const ops = plan.map((s) => `${s.op} ${shortName(s.urn)}`).sort();
    assert.deepEqual(ops, ["delete github-my-org", "update fleet-default-branch", "update fleet-flux-deploy-key"], JSON.stringify(plan));
    await ok("up", "--yes", "--skip-preview", "--refresh=false");
    const after = await keysOnGitHub();
    assert.deepEqual(after, before, "the same key, by id: not replaced, not added again");
    const state2 = JSON.parse(await ok("stack", "export")) as { deployment: { resources: Res[] } };
    assert.deepEqual(
      state2.deployment.resources.filter((r) => r.type.startsWith("github:") || r.type === "pulumi:providers:github").map((r) => r.urn),
      [],
    );
    const key = state2.deployment.resources.find((r) => r.type.endsWith(":GitHubDeployKey"))!;
    assert.equal(key.id, `${fleetRepo}:${before[0].id}`, "the id pulumi-github gave it");
    await ok("preview", "--expect-no-changes");
  });
});
