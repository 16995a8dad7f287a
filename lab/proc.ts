// Lab processes: started detached with their output in a log file and their id in a pid file, probed until ready, stopped by that id.
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { LabError } from "./build";
import { RUN, runPath } from "./layout";

/** How a component tells it is ready. */
export type Probe =
  | { readonly url: string; readonly ca?: string; readonly cert?: string; readonly key?: string; readonly insecure?: boolean; readonly expect?: RegExp }
  | { readonly tcp: number }
  | { readonly check: () => Promise<boolean> };

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly ready: Probe;
  /** Seconds to wait for ready. */
  readonly readySeconds?: number;
}

export function logFile(name: string): string {
  return runPath(RUN.logs, `${name}.log`);
}

function pidFile(name: string): string {
  return runPath(RUN.pids, `${name}.pid`);
}

/** The last lines of a component's log, for failure messages. */
export function logTail(name: string, lines = 25): string {
  try {
    const text = fs.readFileSync(logFile(name), "utf8").trimEnd().split("\n");
    return text.slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Whether `pid` runs `command` (not a zombie, not a reused id). */
export function runs(pid: number, command: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/\) Z /.test(stat)) return false;
    const argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
    return argv0 === command;
  } catch {
    return false;
  }
}

export interface Recorded {
  readonly name: string;
  readonly pid: number;
  readonly command: string;
}

/** Every process the lab has recorded as started, in start order. */
export function recorded(): Recorded[] {
  const dir = runPath(RUN.pids);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".pid"))
    .map((f) => {
      const [pid, command, started] = fs.readFileSync(path.join(dir, f), "utf8").split("\n");
      return { name: f.slice(0, -4), pid: Number(pid), command, started: Number(started) || 0 };
    })
    .sort((a, b) => a.started - b.started)
    .map(({ name, pid, command }) => ({ name, pid, command }));
}

/** Starts a process in its own session (it outlives this one), output appended to its log. */
export function startProcess(spec: ProcessSpec): Recorded {
  fs.mkdirSync(runPath(RUN.logs), { recursive: true });
  fs.mkdirSync(runPath(RUN.pids), { recursive: true });
  const out = fs.openSync(logFile(spec.name), "a");
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new LabError(`${spec.name} did not start (${spec.command})`);
  child.unref();
  fs.writeFileSync(pidFile(spec.name), `${child.pid}\n${spec.command}\n${Date.now()}\n`);
  return { name: spec.name, pid: child.pid, command: spec.command };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Stops a recorded process by its id (TERM, then KILL after `graceMs`); forgets it. */
export async function stopProcess(p: Recorded, graceMs = 10_000): Promise<void> {
  if (runs(p.pid, p.command)) {
    process.kill(p.pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (runs(p.pid, p.command) && Date.now() < deadline) await sleep(100);
    if (runs(p.pid, p.command)) {
      process.kill(p.pid, "SIGKILL");
      while (runs(p.pid, p.command)) await sleep(50);
    }
  }
  fs.rmSync(pidFile(p.name), { force: true });
}

function get(probe: Extract<Probe, { url: string }>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(probe.url);
    const options: https.RequestOptions = {
      timeout: 2000,
      ca: probe.ca ? fs.readFileSync(probe.ca) : undefined,
      cert: probe.cert ? fs.readFileSync(probe.cert) : undefined,
      key: probe.key ? fs.readFileSync(probe.key) : undefined,
      rejectUnauthorized: !probe.insecure,
    };
    const req = (url.protocol === "https:" ? https : http).get(url, options, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

export async function probeOnce(probe: Probe): Promise<boolean> {
  try {
    if ("tcp" in probe) return await connects(probe.tcp);
    if ("check" in probe) return await probe.check();
    const r = await get(probe);
    return r.status === 200 && (!probe.expect || probe.expect.test(r.body));
  } catch {
    return false;
  }
}

/** Waits until the process answers its probe; a process that exits or never answers fails with its log tail. */
export async function waitReady(spec: ProcessSpec, p: Recorded): Promise<void> {
  const seconds = spec.readySeconds ?? 60;
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (!runs(p.pid, p.command)) {
      throw new LabError(`${spec.name} exited while starting. Last lines of ${logFile(spec.name)}:\n${logTail(spec.name)}`);
    }
    if (await probeOnce(spec.ready)) return;
    if (Date.now() >= deadline) {
      throw new LabError(`${spec.name} was not ready within ${seconds}s. Last lines of ${logFile(spec.name)}:\n${logTail(spec.name)}`);
    }
    await sleep(250);
  }
}

/** The kernel's range for ports it picks itself (outgoing connections, listen on port 0); Linux's default. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux, or no procfs: assume the default
  }
  return [32768, 60999];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.on("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port on 127.0.0.1 below the kernel's ephemeral range. A lab port is held by a process that
 * may stop and start again (a Flux controller on every install); a port the kernel hands out itself
 * could meanwhile go to any program's listener or connection on this machine.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const base = Math.max(10_000, low - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = base + Math.floor(Math.random() * (low - base));
    if (await bindable(port)) return port;
  }
  throw new LabError(`no free port on 127.0.0.1 between ${base} and ${low - 1}`);
}
