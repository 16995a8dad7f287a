// `npm run lab -- <command>`: up, down, status, env, authorize <pubkey-file>, pulumi <args>, build, gomod.
import { buildLab, LabError } from "./build";
import { generateKubeReplaces } from "./gomod";
import { authorize, labDown, labEnv, labStatus, labUp } from "./lab";
import { runPulumi } from "./pulumi";
import { readState } from "./state";
import { scaleMedians } from "./test/scale";

const USAGE = `usage: npm run lab -- <command>
  up                      build what is not cached, then start etcd, the Kubernetes control plane, kwok,
                          the Git server and the Flux controllers' supervisor, all on 127.0.0.1
  down                    stop everything the lab started
  status                  the lab's processes and addresses
  env                     shell lines: KUBECONFIG, LAB_GIT_SSH, LAB_KNOWN_HOSTS, LAB_GIT_IDENTITY
  authorize <pubkey-file> let an OpenSSH public key read and push on the lab's Git server
  pulumi <args>           the lab's Pulumi CLI in this project, on a file backend in the lab folder, with the
                          lab's plugins and kubeconfig and no network (e.g. npm run lab -- pulumi stack ls)
  scale [sizes] [--runs N]
                          time to Ready at fleet scale (default sizes 1,10,50; 3 runs each): install to
                          all Ready, fleet commit and tenant commit to Ready, as up waits; progress on
                          stderr, medians as one JSON object on stdout
  build                   build (or find cached) every binary, and print the times
  gomod                   regenerate lab/go/kube/go.mod's replace block from the pinned Kubernetes tag`;

function requireState() {
  const state = readState();
  if (!state) throw new LabError("the lab is not up: run `npm run lab -- up` first");
  return state;
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
      const runsAt = rest.indexOf("--runs");
      const runs = runsAt >= 0 ? Number(rest[runsAt + 1]) : 3;
      const positional = rest.filter((a, i) => !a.startsWith("--") && !(runsAt >= 0 && i === runsAt + 1));
      const sizes = (positional[0] ?? "1,10,50").split(",").map(Number);
      if (!(runs >= 1) || sizes.some((n) => !(n >= 1))) throw new LabError("usage: npm run lab -- scale [1,10,50] [--runs 3]");
      console.log(JSON.stringify(await scaleMedians(requireState(), sizes, runs, (line) => console.error(line))));
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
