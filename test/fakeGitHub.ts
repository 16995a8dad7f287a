// A GitHub REST API on loopback with in-memory repositories: the Git Data endpoints the commit provider uses,
// repository creation, and GitHub's rate-limit answers on demand.
import { createHash } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

interface Repo {
  defaultBranch: string;
  admin: boolean;
  description: string;
  visibility: string;
  refs: Map<string, string>;
  commits: Map<string, { tree: string; parents: string[]; message: string }>;
  trees: Map<string, Map<string, string>>; // tree sha -> path -> blob sha
  keys: Map<number, { title: string; key: string; read_only: boolean }>;
}

export interface FakeGitHub {
  readonly url: string;
  /** Every request, "METHOD /path". */
  readonly requests: string[];
  /** Write requests (POST, PATCH, PUT, DELETE; GraphQL mutations, as "POST /graphql <mutation>"). */
  writes(): string[];
  /** Read requests (GET; GraphQL queries). */
  reads(): string[];
  /** Commits that moved a branch (ref updates and creations, and contents API commits). */
  commitsOn(owner: string, repo: string, branch: string): number;
  /** A branch's files, path -> text. */
  files(owner: string, repo: string, branch: string): Map<string, string>;
  createRepo(owner: string, repo: string, opts?: { admin?: boolean; defaultBranch?: string; files?: Record<string, string>; description?: string }): void;
  /** A repository's settings as the API reports them, or undefined. */
  repo(owner: string, repo: string): { description: string; visibility: string; defaultBranch: string } | undefined;
  /** Accounts that are organisations (repositories created under /orgs/:org/repos); others are users. */
  organisations: Set<string>;
  /** The user the token belongs to (repositories created under /user/repos). */
  user: string;
  /** Report size 0 for repositories with commits, as GitHub does for a while after creating one. */
  lazySize: boolean;
  /** Answers the next `count` requests with a secondary rate limit (403, retry-after), or a spent primary limit (403, reset in `resetSeconds`). */
  rateLimit(kind: "secondary" | "primary", count?: number, resetSeconds?: number): void;
  /** Tokens GitHub no longer accepts: a request with one is answered 401 Bad credentials. */
  readonly revokedTokens: Set<string>;
  /** A commit by someone else on a branch: files written (text) or deleted (null). */
  pushOutOfBand(owner: string, repo: string, branch: string, files: Record<string, string | null>): void;
  /** Makes the next ref update or GraphQL commit on this branch lose a race (422, STALE_DATA), as if another push came first. */
  raceOnce(owner: string, repo: string, branch: string): void;
  close(): Promise<void>;
}

const blobSha = (text: string) => {
  const b = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
};
const objSha = (v: unknown) => createHash("sha1").update(JSON.stringify(v)).digest("hex");

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const repos = new Map<string, Repo>();
  const blobs = new Map<string, string>();
  const requests: string[] = [];
  const moved = new Map<string, number>();
  const races = new Set<string>();
  const organisations = new Set<string>(["my-org"]);
  const limits: { kind: "secondary" | "primary"; resetSeconds: number }[] = [];
  const revokedTokens = new Set<string>();
  const state = { lazySize: false, user: "me" };
  const newRepo = (defaultBranch = "main", admin = true, description = "", visibility = "private"): Repo => ({
    defaultBranch,
    admin,
    description,
    visibility,
    refs: new Map(),
    commits: new Map(),
    trees: new Map(),
    keys: new Map(),
  });

  const putTree = (repo: Repo, files: Map<string, string>) => {
    const sha = objSha([...files].sort());
    repo.trees.set(sha, files);
    return sha;
  };
  const commit = (repo: Repo, files: Map<string, string>, parents: string[], message: string) => {
    const tree = putTree(repo, files);
    const sha = objSha({ tree, parents, message, n: repo.commits.size });
    repo.commits.set(sha, { tree, parents, message });
    return sha;
  };
  const bump = (key: string) => moved.set(key, (moved.get(key) ?? 0) + 1);

  // A race set up by raceOnce: another push lands on the branch first.
  const anotherPushFirst = (key: string, repo: Repo, branch: string) => {
    if (!races.delete(`${key}@${branch}`)) return;
    const head = repo.refs.get(branch)!;
    const files = new Map(repo.trees.get(repo.commits.get(head)!.tree));
    files.set("OTHER.md", blobSha("other push\n"));
    blobs.set(blobSha("other push\n"), "other push\n");
    repo.refs.set(branch, commit(repo, files, [head], "other push"));
  };

  // GraphQL: createCommitOnBranch, the one mutation the providers use (one write for a whole tree of files).
  const graphql = (request: { query?: string; variables?: Record<string, any> }, send: (status: number, data: unknown) => void) => {
    const input = request.variables?.input;
    if (!/createCommitOnBranch/.test(request.query ?? "") || !input) {
      return send(200, { data: null, errors: [{ type: "NOT_FOUND", message: "fake GitHub answers createCommitOnBranch only" }] });
    }
    const [owner, name] = String(input.branch.repositoryNameWithOwner).split("/");
    const branch = String(input.branch.branchName).replace(/^refs\/heads\//, "");
    const repo = repos.get(`${owner}/${name}`);
    if (repo) anotherPushFirst(`${owner}/${name}`, repo, branch);
    const head = repo?.refs.get(branch);
    if (!repo || !head) {
      return send(200, { data: null, errors: [{ type: "NOT_FOUND", message: `A ref named "${branch}" does not exist in ${owner}/${name}` }] });
    }
    if (head !== input.expectedHeadOid) {
      return send(200, { data: null, errors: [{ type: "STALE_DATA", message: `Expected branch to point to "${input.expectedHeadOid}" but it did not.` }] });
    }
    const files = new Map(repo.trees.get(repo.commits.get(head)!.tree));
    for (const a of (input.fileChanges?.additions ?? []) as { path: string; contents: string }[]) {
      const text = Buffer.from(a.contents, "base64").toString("utf8");
      blobs.set(blobSha(text), text);
      files.set(a.path, blobSha(text));
    }
    for (const d of (input.fileChanges?.deletions ?? []) as { path: string }[]) files.delete(d.path);
    const sha = commit(repo, files, [head], input.message?.headline ?? "");
    repo.refs.set(branch, sha);
    bump(`${owner}/${name}@${branch}`);
    return send(200, { data: { createCommitOnBranch: { commit: { oid: sha } } } });
  };

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const pathname = decodeURIComponent(url.pathname);
      // A GraphQL request is a write when it is a mutation, as GitHub counts it.
      const graphqlKind = pathname === "/graphql" ? (/^\s*mutation\b/.test(body ? String(JSON.parse(body).query) : "") ? " (mutation)" : " (query)") : "";
      requests.push(`${req.method} ${pathname}${graphqlKind}`);
      const send = (status: number, data: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(data));
      };
      const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (token !== undefined && revokedTokens.has(token)) return send(401, { message: "Bad credentials" });
      const limit = limits.shift();
      if (limit?.kind === "secondary") {
        res.writeHead(403, { "content-type": "application/json", "retry-after": "1" });
        return res.end(JSON.stringify({ message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again." }));
      }
      if (limit?.kind === "primary") {
        const reset = Math.floor(Date.now() / 1000) + limit.resetSeconds;
        res.writeHead(403, {
          "content-type": "application/json",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-limit": "5000",
          "x-ratelimit-reset": String(reset),
        });
        return res.end(JSON.stringify({ message: "API rate limit exceeded for user." }));
      }
      if (req.method === "GET" && pathname === "/user") return send(200, { login: state.user });
      let org: RegExpExecArray | null;
      if (req.method === "GET" && (org = /^\/orgs\/([^/]+)$/.exec(pathname))) {
        return organisations.has(org[1]) ? send(200, { login: org[1], id: 1 }) : send(404, { message: "Not Found" });
      }
      if (req.method === "POST" && pathname === "/graphql") return graphql(JSON.parse(body || "{}"), send);
      let created: RegExpExecArray | null;
      if (req.method === "POST" && ((created = /^\/orgs\/([^/]+)\/repos$/.exec(pathname)) || pathname === "/user/repos")) {
        const owner = created ? created[1] : state.user;
        if (created && !organisations.has(owner)) return send(404, { message: "Not Found" });
        const input = body ? JSON.parse(body) : {};
        if (repos.has(`${owner}/${input.name}`)) {
          return send(422, {
            message: "Repository creation failed.",
            errors: [{ resource: "Repository", code: "custom", field: "name", message: "name already exists on this account" }],
          });
        }
        const repo = newRepo("main", true, input.description ?? "", input.visibility ?? (input.private === false ? "public" : "private"));
        repos.set(`${owner}/${input.name}`, repo);
        if (input.auto_init) {
          blobs.set(blobSha(`# ${input.name}\n`), `# ${input.name}\n`);
          repo.refs.set("main", commit(repo, new Map([["README.md", blobSha(`# ${input.name}\n`)]]), [], "Initial commit"));
        }
        return send(201, {
          name: input.name,
          full_name: `${owner}/${input.name}`,
          owner: { login: owner },
          html_url: `https://github.com/${owner}/${input.name}`,
        });
      }
      const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(pathname);
      const repo = m ? repos.get(`${m[1]}/${m[2]}`) : undefined;
      if (!m || !repo) return send(404, { message: "Not Found" });
      const key = `${m[1]}/${m[2]}`;
      const rest = m[3] ?? "";
      const input = body ? JSON.parse(body) : {};
      const empty = repo.refs.size === 0;
      let r: RegExpExecArray | null;
      if (req.method === "GET" && rest === "") {
        return send(200, {
          name: m[2],
          full_name: key,
          html_url: `https://github.com/${key}`,
          description: repo.description,
          visibility: repo.visibility,
          private: repo.visibility !== "public",
          default_branch: repo.defaultBranch,
          size: empty || state.lazySize ? 0 : 1,
          permissions: { admin: repo.admin, push: true, pull: true },
        });
      }
      if (req.method === "PATCH" && rest === "") {
        if (input.description !== undefined) repo.description = input.description;
        if (input.visibility !== undefined) repo.visibility = input.visibility;
        if (input.default_branch !== undefined) repo.defaultBranch = input.default_branch;
        return send(200, { full_name: key, visibility: repo.visibility, description: repo.description });
      }
      if (req.method === "GET" && rest === "/git/matching-refs/heads") {
        if (empty) return send(409, { message: "Git Repository is empty." });
        return send(
          200,
          [...repo.refs].map(([b, sha]) => ({ ref: `refs/heads/${b}`, object: { sha, type: "commit" } })),
        );
      }
      if (req.method === "GET" && (r = /^\/git\/ref\/heads\/(.+)$/.exec(rest))) {
        if (empty) return send(409, { message: "Git Repository is empty." });
        const sha = repo.refs.get(r[1]);
        return sha ? send(200, { ref: `refs/heads/${r[1]}`, object: { sha, type: "commit" } }) : send(404, { message: "Not Found" });
      }
      if (req.method === "GET" && (r = /^\/git\/commits\/(\w+)$/.exec(rest))) {
        const c = repo.commits.get(r[1]);
        return c ? send(200, { sha: r[1], tree: { sha: c.tree }, parents: c.parents.map((sha) => ({ sha })) }) : send(404, {});
      }
      if (req.method === "GET" && (r = /^\/git\/trees\/(.+)$/.exec(rest))) {
        // A tree by its SHA, or the tree of a branch's head (GitHub takes a ref name here too).
        if (empty && !repo.trees.has(r[1])) return send(409, { message: "Git Repository is empty." });
        const byRef = repo.refs.get(r[1]);
        const t = repo.trees.get(byRef ? repo.commits.get(byRef)!.tree : r[1]);
        if (!t) return send(404, {});
        return send(200, { sha: r[1], truncated: false, tree: [...t].map(([path, sha]) => ({ path, sha, type: "blob", mode: "100644" })) });
      }
      if (req.method === "GET" && (r = /^\/compare\/(\w+)\.\.\.(\w+)$/.exec(rest))) {
        const [base, head] = [r[1], r[2]];
        if (!repo.commits.has(base) || !repo.commits.has(head)) return send(404, { message: "Not Found" });
        const ancestors = (sha: string): Set<string> => {
          const seen = new Set<string>();
          const todo = [sha];
          while (todo.length) {
            const c = todo.pop()!;
            if (seen.has(c)) continue;
            seen.add(c);
            todo.push(...(repo.commits.get(c)?.parents ?? []));
          }
          return seen;
        };
        const status = base === head ? "identical" : ancestors(head).has(base) ? "ahead" : ancestors(base).has(head) ? "behind" : "diverged";
        return send(200, { status });
      }
      if (req.method === "POST" && rest === "/keys") {
        const id = 1000 + repo.keys.size + 1;
        repo.keys.set(id, { title: input.title, key: input.key, read_only: input.read_only ?? true });
        return send(201, { id, ...repo.keys.get(id) });
      }
      if ((r = /^\/keys\/(\d+)$/.exec(rest))) {
        const key = repo.keys.get(Number(r[1]));
        if (!key) return send(404, { message: "Not Found" });
        if (req.method === "GET") return send(200, { id: Number(r[1]), ...key });
        if (req.method === "DELETE") {
          repo.keys.delete(Number(r[1]));
          res.writeHead(204);
          return res.end();
        }
      }
      if (req.method === "GET" && (r = /^\/git\/blobs\/(\w+)$/.exec(rest))) {
        const text = blobs.get(r[1]);
        return text === undefined ? send(404, {}) : send(200, { sha: r[1], encoding: "base64", content: Buffer.from(text).toString("base64") });
      }
      if (empty && req.method === "POST" && rest.startsWith("/git/")) return send(409, { message: "Git Repository is empty." });
      if (req.method === "POST" && rest === "/git/trees") {
        const files = new Map(input.base_tree ? repo.trees.get(input.base_tree) : []);
        for (const e of input.tree as { path: string; sha?: string | null; content?: string }[]) {
          if (e.sha === null) files.delete(e.path);
          else if (e.content !== undefined) {
            const sha = blobSha(e.content);
            blobs.set(sha, e.content);
            files.set(e.path, sha);
          }
        }
        return send(201, { sha: putTree(repo, files) });
      }
      if (req.method === "POST" && rest === "/git/commits") {
        const files = repo.trees.get(input.tree)!;
        return send(201, { sha: commit(repo, files, input.parents, input.message) });
      }
      if (req.method === "PATCH" && (r = /^\/git\/refs\/heads\/(.+)$/.exec(rest))) {
        const branch = r[1];
        anotherPushFirst(key, repo, branch);
        const head = repo.refs.get(branch);
        const parents = repo.commits.get(input.sha)?.parents ?? [];
        if (!head) return send(422, { message: "Reference does not exist" });
        if (!input.force && !parents.includes(head)) return send(422, { message: "Update is not a fast forward" });
        repo.refs.set(branch, input.sha);
        bump(`${key}@${branch}`);
        return send(200, { ref: `refs/heads/${branch}`, object: { sha: input.sha } });
      }
      if (req.method === "POST" && rest === "/git/refs") {
        const branch = String(input.ref).replace(/^refs\/heads\//, "");
        if (repo.refs.has(branch)) return send(422, { message: "Reference already exists" });
        repo.refs.set(branch, input.sha);
        bump(`${key}@${branch}`);
        return send(201, { ref: input.ref, object: { sha: input.sha } });
      }
      if (req.method === "PUT" && (r = /^\/contents\/(.+)$/.exec(rest))) {
        const branch = input.branch ?? repo.defaultBranch;
        const head = repo.refs.get(branch);
        const files = new Map(head ? repo.trees.get(repo.commits.get(head)!.tree) : []);
        const text = Buffer.from(input.content, "base64").toString("utf8");
        blobs.set(blobSha(text), text);
        files.set(decodeURIComponent(r[1]), blobSha(text));
        repo.refs.set(branch, commit(repo, files, head ? [head] : [], input.message));
        if (!repo.refs.has(repo.defaultBranch)) repo.defaultBranch = branch;
        bump(`${key}@${branch}`);
        return send(201, { content: { path: r[1] }, commit: { sha: repo.refs.get(branch) } });
      }
      send(404, { message: `fake GitHub has no ${req.method} ${rest}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    writes: () => requests.filter((r) => !r.startsWith("GET ") && !r.endsWith(" (query)")),
    reads: () => requests.filter((r) => r.startsWith("GET ") || r.endsWith(" (query)")),
    commitsOn: (owner, repo, branch) => moved.get(`${owner}/${repo}@${branch}`) ?? 0,
    files(owner, name, branch) {
      const repo = repos.get(`${owner}/${name}`)!;
      const head = repo.refs.get(branch);
      if (!head) return new Map();
      return new Map([...repo.trees.get(repo.commits.get(head)!.tree)!].map(([p, sha]) => [p, blobs.get(sha)!]));
    },
    createRepo(owner, name, opts = {}) {
      const repo = newRepo(opts.defaultBranch, opts.admin, opts.description);
      repos.set(`${owner}/${name}`, repo);
      if (opts.files) {
        const files = new Map(Object.entries(opts.files).map(([p, t]) => (blobs.set(blobSha(t), t), [p, blobSha(t)])));
        repo.refs.set(repo.defaultBranch, commit(repo, files, [], "initial"));
      }
    },
    repo(owner, name) {
      const r = repos.get(`${owner}/${name}`);
      return r && { description: r.description, visibility: r.visibility, defaultBranch: r.defaultBranch };
    },
    organisations,
    get user() {
      return state.user;
    },
    set user(u: string) {
      state.user = u;
    },
    get lazySize() {
      return state.lazySize;
    },
    set lazySize(v: boolean) {
      state.lazySize = v;
    },
    revokedTokens,
    rateLimit(kind, count = 1, resetSeconds = 3600) {
      for (let i = 0; i < count; i++) limits.push({ kind, resetSeconds });
    },
    pushOutOfBand(owner, name, branch, changes) {
      const repo = repos.get(`${owner}/${name}`)!;
      const head = repo.refs.get(branch)!;
      const files = new Map(repo.trees.get(repo.commits.get(head)!.tree));
      for (const [p, text] of Object.entries(changes)) {
        if (text === null) files.delete(p);
        else {
          blobs.set(blobSha(text), text);
          files.set(p, blobSha(text));
        }
      }
      repo.refs.set(branch, commit(repo, files, [head], "out of band"));
    },
    raceOnce(owner, name, branch) {
      races.add(`${owner}/${name}@${branch}`);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
