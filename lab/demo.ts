// `npm run demo`: the program seen working with no account anywhere. The lab (built when needed) stands for the
// cluster and the Git host; the real Pulumi CLI runs the program on a demo stack with two tenants, one plain, one Helm.
import * as fs from "fs";
import * as path from "path";
import { LabError } from "./build";
import { labInstallManifest } from "./fluxRelease";
import { authorize, isUp, labDown, labUp } from "./lab";
import { PROJECT_DIR, RUN, runPath } from "./layout";
import { readState, type LabState } from "./state";
import { EngineStack, registerAskedKeys } from "./test/engineStack";
import { getJson, Repo, sshKeyPair } from "./test/support";
import { helmTenantFiles, plainTenantFiles } from "./test/tenants";

const PROJECT = "flux-multi-tenancy";
/** The demo's stack, and its environment (the fleet's clusters/demo and each tenant's demo/ folder). */
export const DEMO_STACK = "demo";
/** The demo's tenants: what each one's repository holds. */
const TENANTS: Record<string, (env: string) => Record<string, string>> = {
  "team-a": (env) => plainTenantFiles("team-a", env),
  // The chart in the tenant's own repository, released as the tenant's own account (its name, the default).
  "team-b": (env) => helmTenantFiles("team-b", env, "team-b", "team-b"),
};

type Condition = { type: string; status: string; lastTransitionTime?: string; message?: string };
type FluxObject = {
  kind: string;
  metadata: { name: string; namespace: string };
  status?: { conditions?: Condition[]; lastAppliedRevision?: string; lastAttemptedRevision?: string; history?: { chartVersion?: string }[] };
};

/** One line of the table: a Kustomization or HelmRelease, its tenant (none for the platform's), Ready, revision, seconds. */
export interface DemoRow {
  readonly object: string;
  readonly tenant: string;
  readonly ready: string;
  readonly revision: string;
  /** From the start of the `up` that did the work to Flux's Ready transition; "" when not Ready, "before" when Ready already. */
  readonly secondsToReady: string;
}

/** How long the table waits, after up, for what Flux does on its own (a tenant's HelmRelease). */
const READY_WAIT_SECONDS = 180;

const repoName = (name: string) => `${DEMO_STACK}-${name}`;
const relative = (p: string) => path.relative(PROJECT_DIR, p) || ".";

/** Every Kustomization and HelmRelease on the lab, as the table's rows (the platform's first, then by tenant). */
export async function demoRows(state: LabState, since: number): Promise<DemoRow[]> {
  const rows: DemoRow[] = [];
  for (const resource of ["kustomizations.kustomize.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io"]) {
    const list = await getJson<{ items: FluxObject[] }>(state, [resource, "--all-namespaces"]);
    for (const o of list?.items ?? []) {
      const ready = o.status?.conditions?.find((c) => c.type === "Ready");
      const at = ready?.status === "True" && ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : undefined;
      rows.push({
        object: `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`,
        tenant: o.metadata.namespace === "flux-system" ? "" : o.metadata.namespace,
        ready: ready ? (ready.status === "True" ? "Ready" : `not Ready: ${(ready.message ?? ready.status).slice(0, 60)}`) : "no status yet",
        revision: o.status?.lastAppliedRevision ?? o.status?.history?.[0]?.chartVersion ?? o.status?.lastAttemptedRevision ?? "",
        // Kubernetes keeps condition times to the second.
        secondsToReady: at === undefined ? "" : at < since - 1000 ? "before" : `${Math.max(0, Math.round((at - since) / 1000))}s`,
      });
    }
  }
  return rows.sort((a, b) => (a.tenant === b.tenant ? 0 : a.tenant === "" ? -1 : b.tenant === "" ? 1 : a.tenant.localeCompare(b.tenant)));
}

/** The rows as a plain text table. */
export function formatTable(rows: readonly DemoRow[]): string {
  const header: DemoRow = { object: "OBJECT", tenant: "TENANT", ready: "READY", revision: "REVISION", secondsToReady: "TO READY" };
  const all = [header, ...rows];
  const keys = ["object", "tenant", "ready", "revision", "secondsToReady"] as const;
  const widths = keys.map((k) => Math.max(...all.map((r) => (r[k] || "-").length)));
  return all
    .map((r) =>
      keys
        .map((k, i) => (r[k] || "-").padEnd(widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/**
 * Builds and starts the lab when it is not up, makes the demo's repositories and stack the first time, runs `up`
 * (registering the deploy keys it names, as a team would on its Git host, and running it again), prints the table.
 */
export async function demoUp(log: (line: string) => void = console.log): Promise<DemoRow[]> {
  const { state } = await labUp(log);
  const keys = runPath(RUN.pulumi, `${DEMO_STACK}-keys`);
  fs.mkdirSync(keys, { recursive: true, mode: 0o700 });
  const engine = new EngineStack(state, DEMO_STACK, (chunk) => process.stdout.write(chunk));
  if (!fs.existsSync(engine.file)) {
    log(`\ndemo: the tenants' repositories on the lab's Git server (${state.git.url})`);
    for (const [name, files] of Object.entries(TENANTS)) {
      const repo = new Repo(state, repoName(name));
      try {
        await repo.commit(files(DEMO_STACK), `${name}: demo workloads`);
      } finally {
        repo.remove();
      }
    }
    // The key the program pushes the fleet with (fleetSshKey), allowed to write on the lab's Git server.
    const pushKey = await sshKeyPair(keys, "fleet-push");
    await authorize(state, pushKey.publicKeyFile);
    log(`demo: the stack ${DEMO_STACK} (the fleet ${state.git.url}/${repoName("fleet")}.git, tenants ${Object.keys(TENANTS).join(", ")})`);
    await engine.ok("stack", "init", "--secrets-provider", "passphrase");
    const manifest = await labInstallManifest();
    engine.setConfig((c) => {
      c[`${PROJECT}:cluster`] = { provider: "existing" };
      c[`${PROJECT}:flux`] = { manifests: manifest.file };
      c[`${PROJECT}:fleet`] = { provider: "git", url: `${state.git.url}/${repoName("fleet")}.git` };
      // Native admission policies: the lab's API server judges them itself (Kyverno would need its webhooks).
      c[`${PROJECT}:policies`] = { engine: "vap", allowedSourcePrefixes: [`${state.git.url}/`] };
      c[`${PROJECT}:tenants`] = Object.keys(TENANTS).map((name) => ({ name, repository: { url: `${state.git.url}/${repoName(name)}.git`, deployKey: true } }));
      c[`${PROJECT}:knownHosts`] = fs.readFileSync(state.git.knownHosts, "utf8");
    });
    await engine.ok("config", "set", "--secret", `${PROJECT}:kubeconfig`, "--", fs.readFileSync(state.kubeconfigs.admin, "utf8"));
    await engine.ok("config", "set", "--secret", `${PROJECT}:fleetSshKey`, "--", pushKey.privateKey);
  }

  log(`\ndemo: pulumi up --stack ${DEMO_STACK} (the lab's Pulumi CLI)\n`);
  let since = Date.now();
  let r = await engine.pulumi("up", "--yes", "--skip-preview");
  if (r.code !== 0) {
    const asked = await registerAskedKeys(state, keys, r.output);
    if (Object.keys(asked).length === 0) throw new LabError(`demo: pulumi up exited ${r.code} (its output is above)`);
    log(`\ndemo: registered the ${Object.keys(asked).length} read-only deploy keys up named on the lab's Git server, and up again\n`);
    since = Date.now();
    r = await engine.pulumi("up", "--yes", "--skip-preview");
    if (r.code !== 0) throw new LabError(`demo: pulumi up exited ${r.code} (its output is above)`);
  }

  // up returns once every Kustomization is Ready; what a tenant's own commit asks for (its HelmRelease) Flux finishes
  // after: the table waits for it, as one would watch it.
  let rows = await demoRows(state, since);
  const deadline = Date.now() + READY_WAIT_SECONDS * 1000;
  while ((rows.length === 0 || rows.some((row) => row.ready !== "Ready")) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rows = await demoRows(state, since);
  }
  log(`\n${formatTable(rows)}\n`);
  const notReady = rows.filter((row) => row.ready !== "Ready");
  if (rows.length === 0 || notReady.length > 0)
    throw new LabError(`demo: not Ready within ${READY_WAIT_SECONDS}s of up: ${notReady.map((row) => row.object).join(", ") || "nothing found"}`);
  log(
    [
      "The lab stays up. To look around:",
      '  eval "$(npm run --silent lab -- env)"            # KUBECONFIG and the lab Git server, in this shell',
      "  kubectl get kustomizations,helmreleases,gitrepositories -A",
      `  npm run lab -- pulumi --cwd ${relative(engine.workspace)} stack --stack ${DEMO_STACK}`,
      `  npm run demo                                     # up again (changes nothing), and the table`,
      `  npm run demo -- down                             # destroy the demo stack and stop the lab`,
    ].join("\n"),
  );
  return rows;
}

/** Destroys the demo stack (Flux and the tenants gone from the lab's cluster, the fleet's files removed), then stops the lab. */
export async function demoDown(log: (line: string) => void = console.log): Promise<void> {
  const state = readState();
  if (!state || !isUp()) {
    log("demo: the lab is not up: nothing to destroy");
    await labDown(log);
    return;
  }
  const engine = new EngineStack(state, DEMO_STACK, (chunk) => process.stdout.write(chunk));
  if (fs.existsSync(engine.file)) {
    log(`demo: pulumi destroy --stack ${DEMO_STACK}\n`);
    await engine.ok("destroy", "--yes", "--skip-preview");
    await engine.ok("stack", "rm", "--yes");
  }
  await labDown(log);
}

async function main(argv: string[]): Promise<void> {
  const [command = "up", ...rest] = argv;
  if (rest.length > 0 || !["up", "down"].includes(command)) throw new LabError("usage: npm run demo [-- down]");
  if (command === "down") return demoDown();
  await demoUp();
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof LabError ? `error: ${e.message}` : e);
    process.exitCode = 1;
  });
}
