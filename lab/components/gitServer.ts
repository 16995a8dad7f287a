// The SSH Git server (gitkit): bare repositories, created on first push, for the keys in its authorized_keys file;
// the same repositories anonymous and read-only over HTTP, as a public host serves them.
import { probeOnce, type ProcessSpec } from "../proc";
import type { LabState } from "../state";

export function gitServer(s: LabState): ProcessSpec {
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
    ready: { check: async () => (await probeOnce({ tcp: s.ports.git })) && probeOnce({ tcp: s.ports.gitHttp }) },
  };
}
