// One program run in this process, as `pulumi up` evaluates it (started by bench/run.ts under Pulumi's ts-node settings): prints one JSON line.
import { performance } from "perf_hooks";
import { registrationCount, runProgram, setRecording } from "../test/mocks";
import { benchStack } from "./stack";

async function main() {
  const n = Number(process.argv[2]);
  const raw = await benchStack(n);
  // The engine is another process: the mock monitor keeps nothing, so the peak is the program's (and the SDK's).
  setRecording(false);
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const run = await runProgram("staging", raw);
  const evalMs = performance.now() - t0;
  console.log(
    JSON.stringify({
      tenants: n,
      evalMs,
      evalPeakMB: process.resourceUsage().maxRSS / 1024,
      startMB: rssBefore / 1024 / 1024,
      heapUsedMB: process.memoryUsage().heapUsed / 1024 / 1024,
      resources: registrationCount(),
      outputs: Object.keys(run.outputs).length,
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
