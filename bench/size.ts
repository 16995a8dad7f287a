// One benchmark size in its own process (so peak memory is its own): prints one JSON line.
import "../test/mocks";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { gitCommitProvider, type GitCommitInputs } from "../components/providers/gitCommit";
import { parseConfig } from "../config";
import { readStackConfig } from "../lib/stackFiles";
import { renderFleet, renderTenantStarter } from "../manifests";
import { startFakeGitHub } from "../test/fakeGitHub";
import { syntheticInstallManifest } from "../test/helpers";
import { runProgram } from "../test/mocks";

const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function tenants(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `team-${i}`, namespace: `team-${i}` }));
}

async function main() {
  const n = Number(process.argv[2]);
  const projectDir = path.resolve(__dirname, "..");
  const { raw } = await readStackConfig(projectDir, "staging");
  const manifestText = syntheticInstallManifest("v2.9.4");
  const manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-")), "install.yaml");
  fs.writeFileSync(manifest, manifestText);
  const stackRaw = (count: number) => ({ ...raw, flux: { manifests: manifest }, tenants: tenants(count) });

  // Render path: config -> tree, as `npm run render` does after reading the files.
  const renderMs: number[] = [];
  let tree: Record<string, string> = {};
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    tree = { ...renderFleet({ config: parseConfig(stackRaw(n), { stack: "staging" }), installManifest: manifestText, installSource: "bench" }) };
    renderMs.push(performance.now() - t0);
  }
  const treeWith = { ...renderFleet({ config: parseConfig(stackRaw(n + 1), { stack: "staging" }), installManifest: manifestText, installSource: "bench" }) };

  // The program under mocks.
  const programMs: number[] = [];
  let resources = 0;
  let githubResources = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const run = await runProgram("staging", stackRaw(n));
    programMs.push(performance.now() - t0);
    resources = run.resources.length;
    githubResources = run.resources.filter((r) => r.custom && r.type.startsWith("github:index/")).length;
  }
  const added = await runProgram("staging", stackRaw(n + 1));
  const before = await runProgram("staging", stackRaw(n));
  const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
  const beforeKeys = new Set(before.resources.map(key));
  const newResources = added.resources.filter((r) => !beforeKeys.has(key(r)));

  // GitHub writes: the fleet commit (fresh, then adding one tenant) and one tenant seed, on a loopback API.
  const gh = await startFakeGitHub();
  gh.createRepo("my-org", "fleet-infra", { files: { "README.md": "x" } });
  gh.createRepo("my-org", "seed", { files: { "README.md": "x" } });
  const commitInputs = (files: Record<string, string>, repository = "fleet-infra", mode: "fleet" | "seed" = "fleet"): GitCommitInputs => ({
    owner: "my-org",
    repository,
    branch: "main",
    files,
    mode,
    message: "bench",
    overwriteShared: false,
    token: "",
    apiUrl: gh.url,
  });
  let w = gh.writes().length;
  const fresh = await gitCommitProvider.create(commitInputs(tree));
  const freshWrites = gh.writes().length - w;
  const filesBefore = gh.files("my-org", "fleet-infra", "main");
  w = gh.writes().length;
  const grown = await gitCommitProvider.update!("id", fresh.outs!, commitInputs(treeWith));
  const addWrites = gh.writes().length - w;
  const filesAfter = gh.files("my-org", "fleet-infra", "main");
  const changedFiles = [...filesAfter.keys()].filter((p) => filesAfter.get(p) !== filesBefore.get(p));
  w = gh.writes().length;
  const seeded = await gitCommitProvider.create(commitInputs(renderTenantStarter(parseConfig(stackRaw(1), { stack: "staging" }).tenants[0]), "seed", "seed"));
  const seedWrites = gh.writes().length - w;
  await gh.close();

  // A fresh up: repositories and deploy keys (one API call each), the fleet commit, one seed per created tenant repository.
  const seededTenants = n; // every generated tenant's repository is created, so seeded
  console.log(
    JSON.stringify({
      tenants: n,
      renderMs: median(renderMs),
      programMs: median(programMs),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      resources,
      repoFiles: Object.keys(tree).length,
      repoBytes: Object.values(tree).reduce((s, t) => s + Buffer.byteLength(t), 0),
      fresh: {
        fleetCommits: fresh.outs!.commits,
        fleetApiWrites: freshWrites,
        seedCommits: seededTenants * seeded.outs!.commits,
        githubApiWrites: githubResources + freshWrites + seededTenants * seedWrites,
      },
      addOne: {
        newResources: newResources.length,
        newResourcesAllTheTenants: newResources.every((r) => r.name.includes(`team-${n}`)),
        fleetCommits: grown.outs!.commits,
        fleetApiWrites: addWrites,
        changedFiles: changedFiles.length,
        changedOnlyTheTenant: changedFiles.every((p) => p.includes(`team-${n}`) || p === "tenants/staging/kustomization.yaml"),
        githubApiWrites: newResources.filter((r) => r.custom && r.type.startsWith("github:index/")).length + addWrites + seedWrites,
      },
    }),
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
