// The SSH Git server (gitkit): bare repositories, created on first push, for the keys in its authorized_keys file;
// the same repositories anonymous and read-only over HTTP, as a public host serves them. A key the lab's GitHub
// registered as a deploy key reaches only its repositories: gitkit runs git-upload-pack and git-receive-pack from
// PATH with the key's fingerprint in GITKIT_KEY, so the lab puts a gate of that name first on the server's PATH.
import * as fs from "fs";
import * as path from "path";
import { probeOnce, type ProcessSpec } from "../proc";
import type { LabState } from "../state";

/**
 * The gate for one Git service: a deploy key (listed in the access file) passes only to its own repositories,
 * and to push only when it may write, answered as GitHub answers a key of another repository; any other
 * authenticated key (the lab's own, those `lab authorize` adds) passes everywhere.
 */
function gate(service: "upload-pack" | "receive-pack", access: string): string {
  const file = JSON.stringify(access);
  // Fixed-string matches: a fingerprint holds '+' and '/'.
  const allowed =
    service === "upload-pack"
      ? `grep -qxF "$GITKIT_KEY $repo ro" ${file} || grep -qxF "$GITKIT_KEY $repo rw" ${file}`
      : `grep -qxF "$GITKIT_KEY $repo rw" ${file}`;
  return `#!/bin/sh
# Written by the lab: deploy keys of the lab's GitHub reach their own repositories only.
repo="\${1#/}"
repo="\${repo%.git}"
if grep -qF "$GITKIT_KEY " ${file} 2>/dev/null; then
  if ! { ${allowed}; }; then
    echo "ERROR: Repository not found." >&2
    exit 1
  fi
fi
exec git ${service} "$@"
`;
}

/** Writes the gates into `dir` (the first entry of the Git server's PATH). */
export function writeGitGates(dir: string, access: string): void {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(access)) fs.writeFileSync(access, "");
  for (const service of ["upload-pack", "receive-pack"] as const) fs.writeFileSync(path.join(dir, `git-${service}`), gate(service, access), { mode: 0o755 });
}

/** The webhooks the Git server calls on a push to `repository` (its path there, without .git); none (`[]`) removes them; others stay. */
export function setWebhooks(s: LabState, repository: string, hooks: readonly { url: string; secret?: string }[]): void {
  const file = s.git.webhooks;
  const all = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  if (hooks.length > 0) all[repository] = hooks;
  else delete all[repository];
  fs.writeFileSync(`${file}.new`, JSON.stringify(all, null, 2) + "\n");
  fs.renameSync(`${file}.new`, file);
}

/**
 * The post-receive hook of every repository (Git's core.hooksPath, given to the server's Git commands through the
 * environment): the server's own `deliver` calls the repository's webhooks, as a Git host does on push.
 */
function writeHooks(dir: string, s: LabState): void {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(s.git.webhooks)) fs.writeFileSync(s.git.webhooks, "{}\n");
  const q = (v: string) => `'${v.replace(/'/g, "'\\''")}'`;
  fs.writeFileSync(
    path.join(dir, "post-receive"),
    `#!/bin/sh\n# Written by the lab: webhooks on push.\nexec ${q(s.bins["git-server"])} deliver --webhooks=${q(s.git.webhooks)} --repos=${q(s.git.repos)}\n`,
    { mode: 0o755 },
  );
}

export function gitServer(s: LabState): ProcessSpec {
  const gates = path.join(path.dirname(s.git.deployKeys), "bin");
  writeGitGates(gates, s.git.deployKeys);
  const hooks = path.join(path.dirname(s.git.deployKeys), "hooks");
  writeHooks(hooks, s);
  return {
    name: "git-server",
    command: s.bins["git-server"],
    args: [
      `--listen=127.0.0.1:${s.ports.git}`,
      `--http-listen=127.0.0.1:${s.ports.gitHttp}`,
      `--repos=${s.git.repos}`,
      `--host-key-dir=${s.git.hostKeyDir}`,
      `--authorized-keys=${s.git.authorizedKeys}`,
    ],
    env: {
      PATH: `${gates}:${process.env.PATH ?? ""}`,
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.hooksPath",
      GIT_CONFIG_VALUE_0: hooks,
      // Webhooks to https:// addresses on loopback carry certificates of the lab's CA.
      SSL_CERT_FILE: s.pki.caCert,
    },
    ready: { check: async () => (await probeOnce({ tcp: s.ports.git })) && probeOnce({ tcp: s.ports.gitHttp }) },
  };
}
