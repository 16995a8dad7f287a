// The lab's GitHub: the loopback GitHub of the tests (one implementation, held to GitHub's description the same way), as a
// GitHub Enterprise Server on 127.0.0.1 over HTTPS, its repositories the lab Git server's, and the deploy keys it registers
// given to that server: a key reaches the repositories it was registered on, read-only unless asked, and nothing once deleted.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { startFakeGitHub, takeUnclaimedViolations, type Webhook } from "../test/fakeGitHub";
import { BareRepositoryObjects } from "../test/gitObjects";
import { readState, type LabState } from "./state";
import { setWebhooks } from "./components/gitServer";

/** Marks the deploy-key lines this server writes into the Git server's authorized_keys (the lab's own keys are left alone). */
const DEPLOY_MARK = "flux-lab-github-deploy-key";

/** An OpenSSH public key's SHA256 fingerprint, as the Git server names the key it authenticated. */
export function fingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? "", "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Writes every repository's deploy keys where the Git server reads them: authorized_keys (to let them in) and the access list (to bound them). */
function deployKeysWriter(state: LabState): (owner: string, name: string, keys: readonly { key: string; read_only: boolean }[]) => void {
  const all = new Map<string, readonly { key: string; read_only: boolean }[]>();
  return (owner, name, keys) => {
    all.set(`${owner}/${name}`, keys);
    const entries = [...all].flatMap(([repo, list]) => list.map((k) => ({ repo, ...k })));
    const admin = fs
      .readFileSync(state.git.authorizedKeys, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.endsWith(DEPLOY_MARK));
    const deploy = entries.map((e) => `${e.key.trim().split(/\s+/).slice(0, 2).join(" ")} ${DEPLOY_MARK}`);
    const write = (file: string, text: string) => {
      fs.writeFileSync(`${file}.new`, text);
      fs.renameSync(`${file}.new`, file);
    };
    write(state.git.deployKeys, entries.map((e) => `${fingerprint(e.key)} ${e.repo} ${e.read_only ? "ro" : "rw"}\n`).join(""));
    write(state.git.authorizedKeys, [...admin, ...new Set(deploy)].map((l) => `${l}\n`).join(""));
  };
}

/**
 * Gives the Git server each repository's active push webhooks (GitHub delivers a push to those), merged into its webhooks
 * file under `<owner>/<repository>`, the path it keeps the repository at; other repositories' entries stay.
 */
function webhooksWriter(state: LabState): (owner: string, name: string, hooks: readonly Webhook[]) => void {
  return (owner, name, hooks) => {
    const push = hooks.filter((h) => h.active && (h.events.includes("push") || h.events.includes("*")));
    setWebhooks(
      state,
      `${owner}/${name}`,
      push.map((h) => ({ url: h.url, secret: h.secret })),
    );
  };
}

async function main(): Promise<void> {
  const state = readState();
  if (!state) throw new Error("no lab state: start the lab with `npm run lab -- up`");
  fs.writeFileSync(state.github.violations, "");
  const gh = await startFakeGitHub({
    description: "ghes-3.19",
    basePath: "/api/v3",
    host: state.github.host,
    port: state.ports.github,
    tls: { cert: fs.readFileSync(state.pki.githubCert, "utf8"), key: fs.readFileSync(state.pki.githubKey, "utf8") },
    objects: (owner, name) => new BareRepositoryObjects(path.join(state.git.repos, owner, name)),
    keysChanged: deployKeysWriter(state),
    hooksChanged: webhooksWriter(state),
  });
  console.log(`${new Date().toISOString()} serving ${gh.url} (GitHub Enterprise Server 3.19's description), repositories in ${state.git.repos}`);
  // Every request, one a line ("W" or "R", then the request), so a suite can count what each operation cost.
  fs.writeFileSync(state.github.requests, "");
  let logged = 0;
  setInterval(() => {
    const fresh = gh.requests.slice(logged);
    logged += fresh.length;
    if (fresh.length > 0)
      fs.appendFileSync(state.github.requests, fresh.map((r) => `${r.startsWith("GET ") || r.endsWith(" (query)") ? "R" : "W"} ${r}\n`).join(""));
  }, 100).unref();
  // What the tests' root hook does after each test, done as it happens: every violation is written down for the suite to read.
  setInterval(() => {
    const found = takeUnclaimedViolations();
    if (found.length === 0) return;
    for (const v of found) console.log(`${new Date().toISOString()} outside GitHub's description: ${v}`);
    fs.appendFileSync(state.github.violations, found.map((v) => `${v}\n`).join(""));
  }, 200).unref();
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => gh.close().then(() => process.exit(0)));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
