// `npm run bench`: the staging program and the render path at 1, 10, 100 and 500 tenants; prints figures.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SIZES = (process.env.BENCH_SIZES ?? "1,10,100,500").split(",").map(Number);

interface Row {
  tenants: number;
  renderMs: number;
  programMs: number;
  peakRssMB: number;
  resources: number;
  repoFiles: number;
  repoBytes: number;
  fresh: { fleetCommits: number; fleetApiWrites: number; seedCommits: number; githubApiWrites: number };
  addOne: {
    newResources: number;
    newResourcesAllTheTenants: boolean;
    fleetCommits: number;
    fleetApiWrites: number;
    changedFiles: number;
    changedOnlyTheTenant: boolean;
    githubApiWrites: number;
  };
}

const PROJECT = path.resolve(__dirname, "..");

/** The project compiled to plain JavaScript in a temporary directory (no ts-node, no source maps). */
function compiled(): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-js-"));
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", PROJECT, "--outDir", out, "--sourceMap", "false"], { stdio: "inherit" });
  for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml"]) fs.copyFileSync(path.join(PROJECT, f), path.join(out, f));
  fs.symlinkSync(path.join(PROJECT, "node_modules"), path.join(out, "node_modules"));
  return out;
}

/** Each size in a fresh process, so its peak memory is its own. */
function measure(n: number, js?: string): Row {
  const args = js ? [path.join(js, "bench", "size.js"), String(n)] : ["-r", "ts-node/register", path.join(__dirname, "size.ts"), String(n)];
  const out = execFileSync(process.execPath, args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
  });
  return JSON.parse(out.trim().split("\n").pop()!) as Row;
}

const js = compiled();
const compiledMs = new Map<number, number>();
const rows = SIZES.map((n) => {
  process.stderr.write(`measuring ${n} tenants...\n`);
  compiledMs.set(n, measure(n, js).programMs);
  return measure(n);
});
fs.rmSync(js, { recursive: true, force: true });
const pad = (v: unknown, w: number) => String(v).padStart(w);
const ms = (v: number) => v.toFixed(0);
console.log(
  "Medians of 5 runs. program = the staging program under Pulumi mocks, run as `pulumi up` runs TypeScript (ts-node); " +
    "compiled = the same program compiled to JavaScript first; render = config -> fleet tree.",
);
console.log(
  [
    "tenants",
    "program ms",
    "compiled ms",
    "render ms",
    "peak MB",
    "resources",
    "files",
    "repo KB",
    "fresh: fleet commits",
    "fresh: GitHub writes",
    "+1: new res.",
    "+1: files",
    "+1: commits",
    "+1: GitHub writes",
  ]
    .map((h, i) => pad(h, i === 0 ? 7 : h.length))
    .join("  "),
);
for (const r of rows) {
  console.log(
    [
      pad(r.tenants, 7),
      pad(ms(r.programMs), 10),
      pad(ms(compiledMs.get(r.tenants)!), 11),
      pad(ms(r.renderMs), 9),
      pad(r.peakRssMB, 7),
      pad(r.resources, 9),
      pad(r.repoFiles, 5),
      pad((r.repoBytes / 1024).toFixed(0), 7),
      pad(r.fresh.fleetCommits, 20),
      pad(r.fresh.githubApiWrites, 20),
      pad(r.addOne.newResources, 12),
      pad(r.addOne.changedFiles, 9),
      pad(r.addOne.fleetCommits, 11),
      pad(r.addOne.githubApiWrites, 17),
    ].join("  "),
  );
}
if (rows.length >= 2) {
  const [a, b] = [rows[rows.length - 2], rows[rows.length - 1]];
  const per = (f: (r: Row) => number) => (f(b) - f(a)) / (b.tenants - a.tenants);
  console.log(
    `growth per added tenant (${a.tenants} -> ${b.tenants}): program ${per((r) => r.programMs).toFixed(2)} ms ` +
      `(compiled ${((compiledMs.get(b.tenants)! - compiledMs.get(a.tenants)!) / (b.tenants - a.tenants)).toFixed(2)} ms), render ${per((r) => r.renderMs).toFixed(3)} ms, ` +
      `${per((r) => r.resources).toFixed(1)} resources, ${per((r) => r.repoFiles).toFixed(1)} files, ${(per((r) => r.repoBytes) / 1024).toFixed(2)} KB, ` +
      `${per((r) => r.fresh.githubApiWrites).toFixed(1)} GitHub writes on a fresh up, ${per((r) => r.peakRssMB).toFixed(2)} MB peak memory`,
  );
}
const bad = rows.filter(
  (r) => r.fresh.fleetCommits !== 1 || r.addOne.fleetCommits !== 1 || !r.addOne.changedOnlyTheTenant || !r.addOne.newResourcesAllTheTenants,
);
console.log(
  bad.length === 0
    ? "every size: one fleet commit per up; adding a tenant touches only its own files and resources"
    : `VIOLATIONS at ${bad.map((r) => r.tenants).join(", ")} tenants`,
);
