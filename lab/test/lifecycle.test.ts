// The lab's own failures: said clearly, and nothing left running.
import * as assert from "assert/strict";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LabError } from "../build";
import { apiserver } from "../components/apiserver";
import { etcd } from "../components/etcd";
import { startInOrder } from "../lab";
import { PROJECT_DIR } from "../layout";
import { freePort, probeOnce, recorded, runs } from "../proc";
import type { LabState } from "../state";
import { lab, tempDir } from "./support";

/** Runs the lab CLI in a child process with the given environment. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(PROJECT_DIR, "lab", "cli.ts"), ...args],
      { cwd: PROJECT_DIR, env },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the lab's own failures", () => {
  it("without Go on PATH it says what it needs and builds nothing", async () => {
    const dir = tempDir("no-go");
    try {
      const withoutGo = (process.env.PATH ?? "")
        .split(":")
        .filter((d) => !fs.existsSync(path.join(d, "go")))
        .join(":");
      const r = await cli(["build"], { ...process.env, PATH: withoutGo, FLUX_LAB_DIR: dir });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        "lab: Go is not on PATH: the lab builds etcd, Kubernetes, kwok, the Flux controllers and its Git server from Go modules; install Go 1.26 or later and run again.",
      );
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a component that fails to start is named with the tail of its log, and what started before it is stopped", async () => {
    const main = lab().state;
    const dir = tempDir("failing");
    const saved = process.env.FLUX_LAB_DIR;
    process.env.FLUX_LAB_DIR = dir;
    try {
      const ports = { ...main.ports, etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
      const state: LabState = { ...main, ports };
      const broken = { ...apiserver(state), args: [...apiserver(state).args, "--no-such-flag=true"] };
      const error = await startInOrder([etcd(state), broken], () => undefined).then(
        () => assert.fail("the lab started with a bad flag"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof LabError);
      assert.match(error.message, /^kube-apiserver exited while starting\. Last lines of \S+kube-apiserver\.log:\n[\s\S]*unknown flag: --no-such-flag/);
      assert.deepEqual(
        recorded().filter((p) => runs(p.pid, p.command)),
        [],
        "etcd was stopped",
      );
      assert.equal(await probeOnce({ tcp: ports.etcdClient }), false, "nothing listens on etcd's port");
    } finally {
      process.env.FLUX_LAB_DIR = saved;
      if (saved === undefined) delete process.env.FLUX_LAB_DIR;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
