// `npm run bench [-- --json]`: evaluation time and peak memory of one program run per process, render, and the GitHub API budget, at 1, 100 and 500 tenants.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { GitHubBudget } from "./githubBudget";
import { isUp } from "../lab/lab";
import { readState } from "../lab/state";

const SIZES = (process.env.BENCH_SIZES ?? "1,100,500").split(",").map(Number);
/** Program runs per size, each in its own process; medians reported. */
const RUNS = Number(process.env.BENCH_RUNS ?? "5");
const JSON_OUTPUT = process.argv.includes("--json");
const PROJECT = path.resolve(__dirname, "..");

interface Evaluation {
  evalMs: number;
  evalPeakMB: number;
  resources: number;
}
interface SizeRow {
  tenants: number;
  renderMs: number;
  repoFiles: number;
  repoBytes: number;
  github: GitHubBudget;
}

/**
 * How Pulumi's Node.js run harness (@pulumi/pulumi cmd/run) loads a TypeScript program: the project's
 * ts-node, the project's tsconfig.json (whose ts-node section says transpileOnly), its compiler options
 * over the harness's defaults, source maps on.
 */
const LIKE_PULUMI = `
const ts = require("typescript");
const cfg = ts.readConfigFile("tsconfig.json", ts.sys.readFile).config;
require("ts-node").register({
  compiler: "typescript",
  transpileOnly: process.env.PULUMI_NODEJS_TRANSPILE_ONLY ? process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true" : cfg.compilerOptions.noCheck,
  project: "tsconfig.json",
  skipProject: false,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...cfg.compilerOptions },
});
process.argv = [process.argv[0], "bench/evaluate.ts", ...process.argv.slice(1)];
require(require("path").resolve("bench/evaluate.ts"));
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lastLine = (out: string) => JSON.parse(out.trim().split("\n").pop()!);
const child = (args: string[]) =>
  execFileSync(process.execPath, args, { cwd: PROJECT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] });

/** One program run in a fresh process, so its peak memory is its own. */
function evaluate(n: number): Evaluation {
  return lastLine(child(["-e", LIKE_PULUMI, String(n)])) as Evaluation;
}

function measure(n: number): SizeRow & Evaluation {
  const runs: Evaluation[] = [];
  for (let i = 0; i < RUNS; i++) {
    process.stderr.write(`${n} tenants: program run ${i + 1}/${RUNS}\n`);
    runs.push(evaluate(n));
  }
  process.stderr.write(`${n} tenants: render and GitHub budget\n`);
  const size = lastLine(child(["-r", "ts-node/register", path.join(__dirname, "size.ts"), String(n)])) as SizeRow;
  return {
    ...size,
    evalMs: median(runs.map((r) => r.evalMs)),
    evalPeakMB: median(runs.map((r) => r.evalPeakMB)),
    resources: runs[0].resources,
  };
}

type LabRow = { installToReadyS: number; commitToReadyS: number; tenantCommitToReadyS?: number; unaidedInstallToReadyS?: number; runs?: number };

type EngineScale = {
  engine: Record<string, { upS: number; noopPreviewS: number; addOneS: number; removeOneS: number; destroyS: number; runs: number }>;
  state: Record<string, { bytesPerTenant: number; providerCodeBytes: number; largestProviderBytes: number; resources: number }>;
};

/**
 * A lab measurement (`npm run lab -- <command> <sizes> --runs <runs>`): read from the file `$<env>_RESULTS` names when
 * it is set; otherwise measured now when the lab is up (sizes `$<env>_SIZES`, runs `$<env>_RUNS`); absent otherwise.
 */
function fromLab<T>(env: string, command: string, what: string, sizesDefault: string, runsDefault: string): T | undefined {
  const file = process.env[`${env}_RESULTS`];
  if (file) return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as T) : undefined;
  if (!isUp()) {
    process.stderr.write(`the lab is not up: no ${what} figures (npm run lab -- up first)\n`);
    return undefined;
  }
  const sizes = process.env[`${env}_SIZES`] ?? sizesDefault;
  process.stderr.write(`the lab is up: ${what} at ${sizes} tenants\n`);
  const runs = process.env[`${env}_RUNS`] ?? runsDefault;
  return lastLine(child(["-r", "ts-node/register", path.join(PROJECT, "lab", "cli.ts"), command, sizes, "--runs", runs])) as T;
}

/** Time to Ready on the lab (`npm run lab -- scale`; BENCH_LAB_RESULTS, BENCH_LAB_SIZES default 1,10,50, BENCH_LAB_RUNS default 3). */
const labResults = () => fromLab<Record<string, LabRow>>("BENCH_LAB", "scale", "time-to-Ready", "1,10,50", "3");

/**
 * The real engine at fleet scale (`npm run lab -- scale-engine`): each step's time and the state's bytes, by tenant
 * count (BENCH_ENGINE_RESULTS, BENCH_ENGINE_SIZES default 10,100, BENCH_ENGINE_RUNS default 1).
 */
const engineScale = () => fromLab<EngineScale>("BENCH_ENGINE", "scale-engine", "the real engine's and the state's", "10,100", "1");

type EngineSteps = { tenants: number; steps: { step: string; seconds: number; writes: number; reads: number }[] };

/**
 * What the real engine cost on the GitHub path: the steps of the lab's GitHub suite (npm run test:lab), each
 * with its time and the requests the lab GitHub counted, when the lab is up and that suite ran on it.
 */
function engineOnGitHub(): EngineSteps | undefined {
  const file = readState()?.github?.requests;
  const steps = file && path.join(path.dirname(file), "engine-steps.json");
  return steps && fs.existsSync(steps) ? (JSON.parse(fs.readFileSync(steps, "utf8")) as EngineSteps) : undefined;
}

/**
 * Push-to-deploy on the lab: a tenant push to Ready with its Receiver called by the Git server, and the same push left to
 * the source's interval, side by side (the fleet suite of npm run test:lab), when the lab is up and that suite ran on it.
 */
function receiverOnLab(): { pushToReadyS: number; intervalToReadyS: number } | undefined {
  const webhooks = readState()?.git?.webhooks;
  const file = webhooks && path.join(path.dirname(webhooks), "receiver.json");
  return file && fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as { pushToReadyS: number; intervalToReadyS: number }) : undefined;
}

const rows = SIZES.map(measure);
const lab = labResults();
const engineAtScale = engineScale();
const engineGitHub = engineOnGitHub();
const receiver = receiverOnLab();
const [first, last] = [rows[0], rows[rows.length - 1]];
const growth = (f: (r: (typeof rows)[number]) => number) => (last.tenants === first.tenants ? 0 : (f(last) - f(first)) / (last.tenants - first.tenants));
const round = (v: number, digits = 1) => Number(v.toFixed(digits));

if (JSON_OUTPUT) {
  const result = {
    tenants: Object.fromEntries(
      rows.map((r) => [
        String(r.tenants),
        {
          evalMs: round(r.evalMs),
          evalPeakMB: round(r.evalPeakMB),
          resources: r.resources,
          github: {
            freshWrites: r.github.fresh.writes,
            freshReads: r.github.fresh.reads,
            noopPreviewReads: r.github.noopPreview.reads,
            noopPreviewWrites: r.github.noopPreview.writes,
            addOneWrites: r.github.addOne.writes,
            addOneReads: r.github.addOne.reads,
            addOneFleetCommits: r.github.addOne.fleetCommits,
          },
          evalMsPerTenant: round(r.evalMs / r.tenants, 2),
          renderMs: round(r.renderMs),
          repoFiles: r.repoFiles,
        },
      ]),
    ),
    perTenant: {
      from: first.tenants,
      to: last.tenants,
      evalMs: round(
        growth((r) => r.evalMs),
        2,
      ),
      evalPeakMB: round(
        growth((r) => r.evalPeakMB),
        3,
      ),
      freshWrites: round(
        growth((r) => r.github.fresh.writes),
        2,
      ),
      freshReads: round(
        growth((r) => r.github.fresh.reads),
        2,
      ),
      noopPreviewReads: round(
        growth((r) => r.github.noopPreview.reads),
        2,
      ),
    },
    runs: RUNS,
    machine: { cpus: os.cpus().length, node: process.version },
    ...(lab ? { lab } : {}),
    ...(engineAtScale ? { state: engineAtScale.state, engine: engineAtScale.engine } : {}),
    ...(engineGitHub ? { engineGitHub } : {}),
    ...(receiver ? { receiver } : {}),
  };
  console.log(JSON.stringify(result));
} else {
  console.log(
    `Medians of ${RUNS} program runs, each in its own process, loaded as Pulumi's run harness loads TypeScript (ts-node, this tsconfig); ` +
      "GitHub requests counted on a loopback GitHub API (bench/githubBudget.ts).",
  );
  const head = [
    "tenants",
    "eval ms",
    "ms/tenant",
    "peak MB",
    "resources",
    "render ms",
    "files",
    "fresh W",
    "fresh R",
    "no-op preview R",
    "no-op W",
    "+1 W",
    "+1 R",
    "+1 commits",
  ];
  console.log(head.map((h) => h.padStart(Math.max(7, h.length))).join("  "));
  for (const r of rows) {
    const cells = [
      r.tenants,
      r.evalMs.toFixed(0),
      (r.evalMs / r.tenants).toFixed(1),
      r.evalPeakMB.toFixed(0),
      r.resources,
      r.renderMs.toFixed(0),
      r.repoFiles,
      r.github.fresh.writes,
      r.github.fresh.reads,
      r.github.noopPreview.reads,
      r.github.noopPreview.writes,
      r.github.addOne.writes,
      r.github.addOne.reads,
      r.github.addOne.fleetCommits,
    ];
    console.log(cells.map((c, i) => String(c).padStart(Math.max(7, head[i].length))).join("  "));
  }
  if (rows.length >= 2) {
    console.log(
      `per added tenant (${first.tenants} -> ${last.tenants}): ${growth((r) => r.evalMs).toFixed(1)} ms, ${growth((r) => r.evalPeakMB).toFixed(2)} MB peak, ` +
        `${growth((r) => r.github.fresh.writes).toFixed(2)} writes on a fresh up, ${growth((r) => r.github.noopPreview.reads).toFixed(2)} reads on a no-op preview`,
    );
  }
  if (lab) {
    console.log("lab (real Kubernetes, Flux and Git on loopback; the program's providers in up's order), medians:");
    for (const [n, r] of Object.entries(lab)) {
      console.log(
        `  ${n} tenants: install to all Ready ${r.installToReadyS}s, fleet commit to Ready ${r.commitToReadyS}s` +
          (r.tenantCommitToReadyS !== undefined ? `, tenant commit to Ready ${r.tenantCommitToReadyS}s` : "") +
          (r.unaidedInstallToReadyS !== undefined ? `; the same install left to Flux's own timers ${r.unaidedInstallToReadyS}s` : ""),
      );
    }
  }
  if (engineAtScale) {
    console.log("the real engine on the lab (fleet and tenants on its Git server), medians:");
    for (const [n, e] of Object.entries(engineAtScale.engine)) {
      const st = engineAtScale.state[n];
      console.log(
        `  ${n} tenants: up ${e.upS}s, no-op preview ${e.noopPreviewS}s, +1 tenant ${e.addOneS}s, -1 tenant ${e.removeOneS}s, destroy ${e.destroyS}s (${e.runs} runs); ` +
          `state ${st.bytesPerTenant} bytes per tenant, provider text ${st.providerCodeBytes} bytes (largest ${st.largestProviderBytes})`,
      );
    }
  }
  if (engineGitHub) {
    console.log(`the real engine on the lab's GitHub (${engineGitHub.tenants} tenants; the GitHub suite of npm run test:lab):`);
    for (const x of engineGitHub.steps) console.log(`  ${x.step}: ${x.seconds.toFixed(1)}s, ${x.writes} writes / ${x.reads} reads`);
  }
  if (receiver) {
    console.log(
      `push to Ready on the lab: ${receiver.pushToReadyS}s with the Receiver, ${receiver.intervalToReadyS}s left to the source's interval ` +
        `(${(receiver.intervalToReadyS / receiver.pushToReadyS).toFixed(1)}x)`,
    );
  }
  const changed = rows.filter((r) => r.github.noopChanges.length > 0 || r.github.noopPreview.writes > 0 || r.github.addOne.fleetCommits !== 1);
  console.log(
    changed.length === 0
      ? "every size: a no-op preview writes nothing and changes nothing; adding a tenant is one fleet commit"
      : `VIOLATIONS at ${changed.map((r) => r.tenants).join(", ")} tenants`,
  );
}
