// github and fleet: where the fleet repository lives, and the known_hosts of every SSH host Flux clones from.
import { DEFAULTS } from "./defaults";
import { FLEET_PROVIDERS, FleetConfig, GitHubConfig, PROJECT, TenantConfig, VISIBILITIES } from "./types";
import { gitBranch, GITHUB_OWNER, GITHUB_REPO, isPlainObject, Raw, Reader, receiverSetting, sshUrl } from "./reader";

/** The SSH URL Flux clones a GitHub repository with (the deploy key authenticates it), on the configured host ("" while the host is refused). */
export function githubSshUrl(github: Pick<GitHubConfig, "host" | "sshPort">, owner: string, repository: string): string {
  if (!HOST_NAME.test(github.host)) return "";
  return `ssh://git@${github.host}${github.sshPort === 22 ? "" : `:${github.sshPort}`}/${owner}/${repository}`;
}

export const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function readGitHub(r: Reader): GitHubConfig {
  const g = r.object("github", { ...DEFAULTS.github } as Raw);
  const host = r.string("github.host", g.host).toLowerCase();
  if (host !== "" && !HOST_NAME.test(host)) {
    r.fail("github.host", g.host, "is not a host name", 'give the GitHub host alone, e.g. "github.example.com" (no scheme, port or path)');
  }
  const onGitHubCom = host === "github.com";
  let apiUrl = r.string("github.apiUrl", g.apiUrl, true).replace(/\/+$/, "");
  if (onGitHubCom && (apiUrl === "https://api.github.com" || apiUrl === "")) {
    apiUrl = ""; // api.github.com, as every stack before this key
  } else if (apiUrl === "") {
    apiUrl = `https://${host}/api/v3`;
  } else if (!r.credentials("github.apiUrl", apiUrl, "remove them: the program reads the token from github:token or GITHUB_TOKEN")) {
    let u: URL | undefined;
    try {
      u = new URL(apiUrl);
    } catch {
      u = undefined;
    }
    if (!u || u.protocol !== "https:") {
      r.fail(
        "github.apiUrl",
        g.apiUrl,
        "is not an https:// URL, so the token would cross the network in clear",
        `give the server's REST API URL, e.g. "https://${onGitHubCom ? "api.github.com" : `${host || "github.example.com"}/api/v3`}"`,
      );
    }
  }
  const sshPort = typeof g.sshPort === "number" && Number.isInteger(g.sshPort) && g.sshPort >= 1 && g.sshPort <= 65535 ? g.sshPort : 22;
  if (sshPort !== g.sshPort)
    r.fail("github.sshPort", g.sshPort, "is not a TCP port", "give the port of the host's SSH service (22 unless its admins moved it)");
  return { host, apiUrl, sshPort };
}

export function readFleet(r: Reader, github: GitHubConfig, notifier: boolean): FleetConfig {
  const given = r.raw.fleet;
  const f = r.object("fleet", { ...DEFAULTS.fleet } as Raw);
  const provider = r.oneOf("fleet.provider", f.provider, FLEET_PROVIDERS);
  const branch = gitBranch(r, "fleet.branch", f.branch);
  if (provider === "git") {
    // The URL names the repository; GitHub's fields would be silently ignored, so they are refused.
    for (const field of ["owner", "repository", "visibility", "create"]) {
      if (isPlainObject(given) && field in given) {
        r.fail(`fleet.${field}`, given[field], "is a GitHub setting, unused with fleet.provider git", "remove it: fleet.url names the repository");
      }
    }
    const url = sshUrl(
      r,
      "fleet.url",
      f.url,
      'the fleet repository\'s SSH URL, e.g. "ssh://git@git.example.com/platform/fleet.git"',
      "remove the password: the program pushes with the key in flux-multi-tenancy:fleetSshKey (pulumi config set --secret)",
    );
    const receiver = receiverSetting(r, "fleet.receiver", f.receiver);
    return { provider, url, owner: "", repository: "", branch, visibility: "private", create: false, receiver: receiver === true };
  }
  if (typeof f.url === "string" && f.url.trim() !== "") {
    r.fail("fleet.url", f.url, "is for fleet.provider git", "remove it (owner and repository name a GitHub repository), or set fleet.provider: git");
  }
  const owner = typeof f.owner === "string" ? f.owner.trim() : "";
  if (owner === "") {
    r.fail(
      "fleet.owner",
      f.owner,
      "is missing",
      `set the GitHub user or organisation that owns the fleet repository: pulumi config set --path ${PROJECT}:fleet.owner my-org`,
    );
  } else if (!GITHUB_OWNER.test(owner)) {
    r.fail("fleet.owner", f.owner, "is not a GitHub user or organisation name", "use letters, digits and single '-'");
  }
  const repository = r.string("fleet.repository", f.repository);
  if (repository !== "" && !GITHUB_REPO.test(repository)) {
    r.fail("fleet.repository", f.repository, "is not a GitHub repository name", "use letters, digits, '.', '_' and '-'");
  }
  const visibility = r.oneOf("fleet.visibility", f.visibility, VISIBILITIES);
  const create = r.boolean("fleet.create", f.create);
  const receiver = receiverSetting(r, "fleet.receiver", f.receiver);
  return {
    provider,
    url: githubSshUrl(github, owner, repository),
    owner,
    repository,
    branch,
    visibility,
    create,
    receiver: receiver === "created" ? create && notifier : receiver,
  };
}

/** The known_hosts name of an ssh:// URL's host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(url: string): string {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  return u.port && u.port !== "22" ? `[${host}]:${u.port}` : host;
}

export const KNOWN_HOSTS_LINE = /^(@\S+\s+)?(\S+)\s+(ssh-|ecdsa-|sk-)\S+\s+[A-Za-z0-9+/=]+(\s.*)?$/;

/** known_hosts for the SSH hosts other than github.com: well formed, with a line for every such host Flux clones from. */
export function readKnownHosts(r: Reader, value: unknown, fleet: FleetConfig, github: GitHubConfig, tenants: readonly TenantConfig[]): string {
  const text = r.string("knownHosts", value, true);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const names = new Set<string>();
  let hashed = false;
  lines.forEach((line, i) => {
    const m = KNOWN_HOSTS_LINE.exec(line);
    if (!m) {
      r.fail(`knownHosts`, line, `(line ${i + 1}) is not a known_hosts line`, 'use "<host> <key type> <base64 key>" lines, as ssh-keyscan prints them');
      return;
    }
    if (m[2].startsWith("|1|")) hashed = true;
    for (const n of m[2].split(",")) names.add(n);
  });
  const needed: [string, string][] = [];
  // A URL already refused is not reported again here.
  if (fleet.provider === "git" && fleet.url.startsWith("ssh://")) needed.push(["fleet.url", fleet.url]);
  tenants.forEach((t, i) => {
    if (t.repository.type === "url" && t.repository.deployKey && t.repository.url.startsWith("ssh://"))
      needed.push([`tenants[${i}].repository.url`, t.repository.url]);
  });
  // A GitHub Enterprise Server's host keys are its own: only github.com's are built in.
  const onGitHub = fleet.provider === "github" || tenants.some((t) => t.repository.type === "github");
  if (onGitHub && github.host !== "github.com" && HOST_NAME.test(github.host)) needed.push(["github.host", githubSshUrl(github, "o", "r")]);
  // Hashed names cannot be matched without the host key; Flux reports a mismatch at its first clone.
  if (hashed) return lines.join("\n") + (lines.length > 0 ? "\n" : "");
  for (const [key, url] of needed) {
    let name: string;
    try {
      name = knownHostsName(url);
    } catch {
      continue; // the URL itself is reported
    }
    if (name === "github.com" || names.has(name)) continue;
    r.fail(
      "knownHosts",
      text === "" ? undefined : `${lines.length} line(s)`,
      `has no line for ${name} (the host of ${key})`,
      `add that host's public key line, checked out of band (e.g. ssh-keyscan${name.startsWith("[") ? ` -p ${name.split(":").pop()}` : ""} ${name.replace(/^\[(.*)\]:\d+$/, "$1")} on a trusted network, compared with the host's published fingerprint)`,
    );
  }
  return lines.join("\n") + (lines.length > 0 ? "\n" : "");
}
