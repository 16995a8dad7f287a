// One benchmark size in its own process: render time, the fleet tree, and the GitHub API budget; prints one JSON line.
import "../test/mocks";
import { performance } from "perf_hooks";
import * as fs from "fs";
import { parseConfig } from "../config";
import { renderFleet } from "../manifests";
import { measureGitHubBudget } from "./githubBudget";
import { benchManifest, benchStack } from "./stack";

const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const n = Number(process.argv[2]);
  const raw = await benchStack(n);
  const manifestText = fs.readFileSync(benchManifest(), "utf8");
  // Render path: config -> tree, as `npm run render` does after reading the files.
  const renderMs: number[] = [];
  let tree: Record<string, string> = {};
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    tree = { ...renderFleet({ config: parseConfig(raw, { stack: "staging" }), installManifest: manifestText, installSource: "bench" }) };
    renderMs.push(performance.now() - t0);
  }
  const github = await measureGitHubBudget(n, benchStack);
  console.log(
    JSON.stringify({
      tenants: n,
      renderMs: median(renderMs),
      repoFiles: Object.keys(tree).length,
      repoBytes: Object.values(tree).reduce((s, t) => s + Buffer.byteLength(t), 0),
      github,
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
