// `npm run lab -- <command>`: up, down, status, env, authorize <pubkey-file>, pulumi <args>, scale, scale-engine, build, gomod.
import { buildLab, LabError } from "./build";
import { generateKubeReplaces } from "./gomod";
import { authorize, labDown, labEnv, labStatus, labUp } from "./lab";
import { runPulumi } from "./pulumi";
import { readState } from "./state";
import { scaleMedians } from "./test/scale";
import { engineMedians } from "./test/scaleEngine";

const USAGE = `usage: npm run lab -- <command>
  up                      build what is not cached, then start etcd, the Kubernetes control plane, kwok,
                          the Git server and the Flux controllers' supervisor, all on 127.0.0.1
  down                    stop everything the lab started
  status                  the lab's processes and addresses
  env                     shell lines: KUBECONFIG, LAB_GIT_SSH, LAB_KNOWN_HOSTS, LAB_GIT_IDENTITY
  authorize <pubkey-file> let an OpenSSH public key read and push on the lab's Git server
  pulumi <args>           the lab's Pulumi CLI in this project, on a file backend in the lab folder, with the
                          lab's plugins and kubeconfig and no network (e.g. npm run lab -- pulumi stack ls)
  scale [sizes] [--runs N] [--timeline]
                          time to Ready at fleet scale (default sizes 1,10,50; 3 runs each): install to
                          all Ready, fleet commit and tenant commit to Ready, as up waits, and the same
                          install left to Flux's own timers; progress (each wait's span, and with
                          --timeline every request, poll and Flux log line) on stderr, medians as one
                          JSON object on stdout
  scale-engine [sizes] [--runs N]
                          the real Pulumi CLI on the program with N tenants (default sizes 10,100; 1 run
                          each): up from nothing, a no-op preview, up adding a tenant, up removing it,
                          destroy, and the state's bytes; progress on stderr, one JSON object on stdout
  build                   build (or find cached) every binary, and print the times
  gomod                   regenerate lab/go/kube/go.mod's replace block from the pinned Kubernetes tag`;

function requireState() {
  const state = readState();
  if (!state) throw new LabError("the lab is not up: run `npm run lab -- up` first");
  return state;
}

/** `[sizes] [--runs N]`: tenant counts (comma-separated) and runs per size. */
function sizesAndRuns(args: string[], sizesDefault: string, runsDefault: number, command: string): { sizes: number[]; runs: number } {
  const runsAt = args.indexOf("--runs");
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : runsDefault;
  const positional = args.filter((a, i) => !a.startsWith("--") && !(runsAt >= 0 && i === runsAt + 1));
  const sizes = (positional[0] ?? sizesDefault).split(",").map(Number);
  if (!(runs >= 1) || sizes.some((n) => !(n >= 1))) throw new LabError(`usage: npm run lab -- ${command} [${sizesDefault}] [--runs ${runsDefault}]`);
  return { sizes, runs };
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "up": {
      const r = await labUp();
      if (!r.alreadyUp) console.log(labEnv(r.state).join("\n"));
      return;
    }
    case "down":
      return labDown();
    case "status":
      console.log(labStatus().join("\n"));
      return;
    case "env":
      console.log(labEnv(requireState()).join("\n"));
      return;
    case "authorize": {
      if (rest.length !== 1) throw new LabError("usage: npm run lab -- authorize <pubkey-file>");
      console.log(`authorized ${await authorize(requireState(), rest[0])}`);
      return;
    }
    case "pulumi":
      process.exitCode = await runPulumi(requireState(), rest);
      return;
    case "scale": {
      const { sizes, runs } = sizesAndRuns(rest, "1,10,50", 3, "scale");
      const timeline = rest.includes("--timeline");
      console.log(JSON.stringify(await scaleMedians(requireState(), sizes, runs, (line) => console.error(line), timeline)));
      return;
    }
    case "scale-engine": {
      const { sizes, runs } = sizesAndRuns(rest, "10,100", 1, "scale-engine");
      console.log(JSON.stringify(await engineMedians(requireState(), sizes, runs, (line) => console.error(line))));
      return;
    }
    case "build":
      await buildLab();
      return;
    case "gomod":
      return generateKubeReplaces();
    default:
      throw new LabError(command ? `unknown command ${command}\n${USAGE}` : USAGE);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof LabError ? `lab: ${e.message}` : e);
  process.exit(1);
});
