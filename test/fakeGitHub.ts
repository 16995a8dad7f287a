// A GitHub API on loopback with in-memory repositories, held to GitHub's published description: every request it
// takes and every answer it gives is checked against the OpenAPI description (REST) or the GraphQL schema, its
// answers start from the description's own examples, and where GitHub's documented semantics differ from what a
// caller might wish (privacy on /user/repos, internal repositories, 422s), it follows GitHub.
import { createHash } from "crypto";
import { graphql, GraphQLError } from "graphql";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import { checkGraphQL, GitHubDescription, githubGraphQLSchema, type Variant } from "./githubDescription";
import { type GitObjects, MemoryObjects } from "./gitObjects";

type Visibility = "public" | "private" | "internal";

interface Repo {
  defaultBranch: string;
  admin: boolean;
  description: string;
  visibility: Visibility;
  id: number;
  git: GitObjects;
  keys: Map<number, { title: string; key: string; read_only: boolean }>;
  hooks: Map<number, Webhook>;
}

/** A repository webhook as the fake keeps it: its secret is never shown back, as on GitHub. */
export interface Webhook {
  readonly url: string;
  readonly contentType: string;
  readonly secret: string;
  readonly insecureSsl: string;
  readonly events: readonly string[];
  readonly active: boolean;
}

/** What an organisation allows: internal repositories exist only in organisations of an enterprise account; a policy may refuse a visibility. */
export interface OrganisationPolicy {
  readonly enterprise?: boolean;
  /** Visibilities the organisation's policy refuses for new repositories (GitHub answers 422). */
  readonly refuse?: readonly Visibility[];
}

export interface FakeGitHubOptions {
  /** The description requests and answers are held to: api.github.com (default), ghec (GitHub Enterprise Cloud), ghes-3.19, ... */
  readonly description?: Variant;
  /** Where each repository's objects live (default: in memory). */
  readonly objects?: (owner: string, name: string) => GitObjects;
  /** Called with a repository's deploy keys whenever they change (the lab gives them to its SSH Git server). */
  readonly keysChanged?: (owner: string, name: string, keys: readonly { key: string; read_only: boolean }[]) => void;
  /** Called with a repository's webhooks whenever they change (the lab's Git server delivers its pushes to them). */
  readonly hooksChanged?: (owner: string, name: string, hooks: readonly Webhook[]) => void;
  /** The REST API's path on the server ("" for api.github.com; "/api/v3" for GitHub Enterprise Server, GraphQL then at /api/graphql). */
  readonly basePath?: string;
  /** The web host in the URLs answers carry (github.com by default). */
  readonly host?: string;
  /** Serve HTTPS with this certificate and key (PEM), instead of plain HTTP. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Listen on this port (default: any free one). */
  readonly port?: number;
}

export interface FakeGitHub {
  /** The REST API's URL (with its base path); GraphQL is beside it, as Octokit finds it. */
  readonly url: string;
  /** Every request, "METHOD /path" (the path below the base path). */
  readonly requests: string[];
  /** Write requests (POST, PATCH, PUT, DELETE; GraphQL mutations, as "POST /graphql <mutation>"). */
  writes(): string[];
  /** Read requests (GET; GraphQL queries). */
  reads(): string[];
  /** Commits that moved a branch (ref updates and creations, and contents API commits). */
  commitsOn(owner: string, repo: string, branch: string): number;
  /** A branch's files, path -> text. */
  files(owner: string, repo: string, branch: string): Map<string, string>;
  /** A repository's webhooks, secrets included (what GitHub delivers with, never shows). */
  hooks(owner: string, repo: string): Webhook[];
  /**
   * A repository made outside the program. `files` become its first commit; `autoInit` makes it as GitHub's
   * auto_init does (one commit holding README.md).
   */
  createRepo(
    owner: string,
    repo: string,
    opts?: { admin?: boolean; defaultBranch?: string; files?: Record<string, string>; description?: string; autoInit?: boolean; visibility?: Visibility },
  ): void;
  /** A repository's settings as the API reports them, or undefined. */
  repo(owner: string, repo: string): { description: string; visibility: string; defaultBranch: string } | undefined;
  /** Accounts that are organisations (repositories created under /orgs/:org/repos); others are users. */
  readonly organisations: Set<string>;
  /** Sets what an organisation allows (and makes the account an organisation). */
  organisation(org: string, policy: OrganisationPolicy): void;
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
  /** Requests and answers outside GitHub's description so far; each names the operation and the field. */
  readonly violations: string[];
  /** Returns the violations so far and forgets them (a test that provokes one on purpose takes it). */
  takeViolations(): string[];
  close(): Promise<void>;
}

/** Every fake running in this process, and the violations fakes already closed left unclaimed: a root hook fails the test that made them. */
const started = new Set<FakeGitHub>();
const orphaned: string[] = [];

/** What every fake in this process checked: requests and answers, and the operations they reached. */
export const checked = { requests: 0, answers: 0, graphql: 0, operations: new Set<string>() };

/** Every violation not yet claimed, from running and closed fakes alike, cleared. */
export function takeUnclaimedViolations(): string[] {
  return [...orphaned.splice(0), ...[...started].flatMap((f) => f.takeViolations())];
}

const objSha = (v: unknown) => createHash("sha1").update(JSON.stringify(v)).digest("hex");

/** A GraphQL error as GitHub words it: a `type` beside the message. */
class GitHubGraphQLError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startFakeGitHub(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const description = GitHubDescription.load(opts.description);
  const repos = new Map<string, Repo>();
  const objectsOf = opts.objects ?? (() => new MemoryObjects());
  const requests: string[] = [];
  const violations: string[] = [];
  const moved = new Map<string, number>();
  const races = new Set<string>();
  const organisations = new Set<string>(["my-org"]);
  const policies = new Map<string, OrganisationPolicy>();
  const limits: { kind: "secondary" | "primary"; resetSeconds: number }[] = [];
  const revokedTokens = new Set<string>();
  const state = { lazySize: false, user: "me", nextId: 1000 };
  // The URLs answers carry: github.com's, or a GitHub Enterprise Server's (its API under /api/v3, GraphQL at /api/graphql).
  const host = opts.host ?? "github.com";
  const basePath = opts.basePath ?? "";
  const webRoot = `https://${host}`;
  const apiRoot = basePath ? `${webRoot}${basePath}` : "https://api.github.com";
  const graphqlPath = basePath ? "/api/graphql" : "/graphql";
  const newRepo = (owner: string, name: string, defaultBranch = "main", admin = true, description = "", visibility: Visibility = "private"): Repo => {
    const git = objectsOf(owner, name);
    git.setHead(defaultBranch);
    return { defaultBranch, admin, description, visibility, id: state.nextId++, git, keys: new Map(), hooks: new Map() };
  };

  const commit = (repo: Repo, files: ReadonlyMap<string, string>, parents: string[], message: string) =>
    repo.git.putCommit(repo.git.putTree(files), parents, message);
  /** A branch's files, path -> blob SHA (none for a branch that is not there). */
  const filesOf = (repo: Repo, branch: string) => {
    const head = repo.git.ref(branch);
    return new Map(head ? repo.git.tree(repo.git.commit(head)!.tree) : []);
  };
  /** GitHub's auto_init: a first commit holding README.md. */
  const autoInit = (repo: Repo, name: string) => {
    repo.git.setRef(repo.defaultBranch, commit(repo, new Map([["README.md", repo.git.putBlob(`# ${name}\n`)]]), [], "Initial commit"));
  };
  const keysChanged = (key: string, repo: Repo) => {
    const [owner, name] = key.split("/");
    opts.keysChanged?.(owner, name, [...repo.keys.values()]);
  };
  const hooksChanged = (key: string, repo: Repo) => {
    const [owner, name] = key.split("/");
    opts.hooksChanged?.(owner, name, [...repo.hooks.values()]);
  };
  const bump = (key: string) => moved.set(key, (moved.get(key) ?? 0) + 1);

  // A race set up by raceOnce: another push lands on the branch first.
  const anotherPushFirst = (key: string, repo: Repo, branch: string) => {
    if (!races.delete(`${key}@${branch}`)) return;
    const head = repo.git.ref(branch)!;
    const files = filesOf(repo, branch);
    files.set("OTHER.md", repo.git.putBlob("other push\n"));
    repo.git.setRef(branch, commit(repo, files, [head], "other push"));
  };

  // Answers, each built on the description's own example of that answer, with this fake's state laid over it.
  const example = (method: string, template: string, status: number) => description.example(method, template, status);
  const isOrg = (owner: string) => organisations.has(owner);
  const account = (login: string, base: Record<string, unknown>) => ({
    ...base,
    login,
    id: 1,
    type: isOrg(login) ? "Organization" : "User",
    html_url: `${webRoot}/${login}`,
    url: `${apiRoot}/users/${login}`,
  });
  const repository = (key: string, repo: Repo, template = "/repos/{owner}/{repo}", method = "GET", status = 200) => {
    const [owner, name] = key.split("/");
    const base = JSON.parse(JSON.stringify(example(method, template, status)).replaceAll("octocat/Hello-World", key));
    for (const k of ["parent", "source", "template_repository", "organization"]) delete base[k];
    const empty = repo.git.branches().length === 0;
    return {
      ...base,
      id: repo.id,
      node_id: `R_${repo.id}`,
      name,
      full_name: key,
      owner: account(owner, base.owner),
      ...(isOrg(owner) ? { organization: account(owner, base.owner) } : {}),
      private: repo.visibility !== "public",
      visibility: repo.visibility,
      description: repo.description,
      fork: false,
      html_url: `${webRoot}/${key}`,
      url: `${apiRoot}/repos/${key}`,
      clone_url: `${webRoot}/${key}.git`,
      git_url: `git://${host}/${key}.git`,
      ssh_url: `git@${host}:${key}.git`,
      svn_url: `${webRoot}/${key}`,
      default_branch: repo.defaultBranch,
      size: empty || state.lazySize ? 0 : 1,
      permissions: { admin: repo.admin, maintain: repo.admin, push: true, triage: true, pull: true },
      has_discussions: false,
      language: null,
    };
  };
  const gitRef = (key: string, branch: string, sha: string, template: string, method: string, status: number) => ({
    ...example(method, template, status),
    ref: `refs/heads/${branch}`,
    node_id: `REF_${objSha(`${key}@${branch}`).slice(0, 12)}`,
    url: `${apiRoot}/repos/${key}/git/refs/heads/${branch}`,
    object: { type: "commit", sha, url: `${apiRoot}/repos/${key}/git/commits/${sha}` },
  });
  const gitCommit = (key: string, sha: string, c: { tree: string; parents: string[]; message: string }, method: string, status: number) => {
    const template = method === "GET" ? "/repos/{owner}/{repo}/git/commits/{commit_sha}" : "/repos/{owner}/{repo}/git/commits";
    const base = example(method, template, status);
    return {
      ...base,
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      url: `${apiRoot}/repos/${key}/git/commits/${sha}`,
      html_url: `${webRoot}/${key}/commit/${sha}`,
      message: c.message,
      tree: { sha: c.tree, url: `${apiRoot}/repos/${key}/git/trees/${c.tree}` },
      parents: c.parents.map((p) => ({
        sha: p,
        url: `${apiRoot}/repos/${key}/git/commits/${p}`,
        html_url: `${webRoot}/${key}/commit/${p}`,
      })),
    };
  };
  /** A tree listing as GitHub gives it, with each entry's API URL. */
  const treeEntries = (key: string, repo: Repo, sha: string, recursive: boolean) =>
    repo.git.treeEntries(sha, recursive)!.map((e) => ({ ...e, url: `${apiRoot}/repos/${key}/git/${e.type === "blob" ? "blobs" : "trees"}/${e.sha}` }));

  // GraphQL: createCommitOnBranch, the one mutation the providers use (one write for a whole tree of files), run by
  // graphql-js against GitHub's schema, so the answer has exactly the shape the document asks for.
  const createCommitOnBranch = ({ input }: { input: any }) => {
    const [owner, name] = String(input.branch.repositoryNameWithOwner).split("/");
    const branch = String(input.branch.branchName).replace(/^refs\/heads\//, "");
    const key = `${owner}/${name}`;
    const repo = repos.get(key);
    if (!repo) throw new GitHubGraphQLError("NOT_FOUND", `Could not resolve to a Repository with the name '${key}'.`);
    anotherPushFirst(key, repo, branch);
    const head = repo.git.ref(branch);
    if (!head) throw new GitHubGraphQLError("NOT_FOUND", `A ref named "${branch}" does not exist in ${key}`);
    if (head !== input.expectedHeadOid) {
      throw new GitHubGraphQLError("STALE_DATA", `Expected branch to point to "${input.expectedHeadOid}" but it did not. Pull and try again.`);
    }
    const files = filesOf(repo, branch);
    for (const a of (input.fileChanges?.additions ?? []) as { path: string; contents: string }[]) {
      files.set(a.path, repo.git.putBlob(Buffer.from(a.contents, "base64").toString("utf8")));
    }
    for (const d of (input.fileChanges?.deletions ?? []) as { path: string }[]) files.delete(d.path);
    const sha = commit(repo, files, [head], input.message?.headline ?? "");
    repo.git.setRef(branch, sha);
    bump(`${key}@${branch}`);
    return { clientMutationId: input.clientMutationId ?? null, commit: { oid: sha, url: `${webRoot}/${key}/commit/${sha}` } };
  };
  const answerGraphQL = async (request: { query?: unknown; variables?: unknown }, send: (status: number, data: unknown) => void) => {
    checked.graphql++;
    const problems = checkGraphQL(request.query, request.variables);
    if (problems.length > 0) {
      violations.push(...problems);
      return send(200, { errors: problems.map((message) => ({ message })) });
    }
    const result = await graphql({
      schema: githubGraphQLSchema(),
      source: String(request.query),
      variableValues: request.variables as Record<string, unknown>,
      rootValue: { createCommitOnBranch },
    });
    const errors = (result.errors ?? []).map((e: GraphQLError) => {
      const original = e.originalError;
      if (!(original instanceof GitHubGraphQLError)) violations.push(`POST /graphql: the answer does not fit GitHub's schema: ${e.message}`);
      return { type: original instanceof GitHubGraphQLError ? original.type : "INTERNAL", path: e.path, locations: e.locations, message: e.message };
    });
    send(200, errors.length > 0 ? { data: result.data ?? null, errors } : { data: result.data });
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const full = decodeURIComponent(url.pathname);
      // REST below the base path, GraphQL at its own path; anything else is no API of this server.
      const pathname =
        full === graphqlPath ? "/graphql" : basePath && full.startsWith(`${basePath}/`) ? full.slice(basePath.length) : basePath ? `/not-the-api${full}` : full;
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      // A GraphQL request is a write when it is a mutation, as GitHub counts it.
      const graphqlKind = pathname === "/graphql" ? (/^\s*mutation\b/.test(String(body?.query ?? "")) ? " (mutation)" : " (query)") : "";
      requests.push(`${req.method} ${pathname}${graphqlKind}`);
      const method = req.method ?? "GET";
      const matched = description.match(method, pathname);
      checked.requests++;
      if (matched) checked.operations.add(GitHubDescription.label(matched));
      const docs = (matched?.route.operation as { externalDocs?: { url?: string } } | undefined)?.externalDocs?.url ?? "https://docs.github.com/rest";
      const send = (status: number, data?: unknown, headers: Record<string, string> = {}) => {
        if (pathname !== "/graphql") {
          checked.answers++;
          violations.push(...description.checkResponse(method, pathname, status, data));
        }
        res.writeHead(status, data === undefined ? headers : { "content-type": "application/json; charset=utf-8", ...headers });
        res.end(data === undefined ? undefined : JSON.stringify(data));
      };
      /** An error answer in GitHub's words: its message, the operation's documentation, and for a 422 the `errors` list. */
      const fail = (status: number, message: string, errors?: { resource: string; field: string; code: string; message?: string }[]) =>
        send(status, { message, documentation_url: docs, status: String(status), ...(errors ? { errors } : {}) });

      const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      if (token === undefined) return fail(401, "Requires authentication");
      if (revokedTokens.has(token)) return fail(401, "Bad credentials");
      const limit = limits.shift();
      if (limit?.kind === "secondary") {
        return send(
          403,
          {
            message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
          },
          { "retry-after": "1" },
        );
      }
      if (limit?.kind === "primary") {
        const reset = Math.floor(Date.now() / 1000) + limit.resetSeconds;
        return send(
          403,
          { message: "API rate limit exceeded for user.", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api" },
          { "x-ratelimit-remaining": "0", "x-ratelimit-limit": "5000", "x-ratelimit-reset": String(reset) },
        );
      }
      if (method === "POST" && pathname === "/graphql") {
        answerGraphQL(body ?? {}, send).catch((e) => fail(500, String(e)));
        return;
      }
      // A request GitHub's description does not have: refused here, so the test that sent it fails on the operation and field.
      const problems = description.checkRequest(method, pathname, url.searchParams, body);
      if (problems.length > 0) {
        violations.push(...problems);
        res.writeHead(400, { "content-type": "application/json" });
        return res.end(JSON.stringify({ message: `loopback GitHub: request outside GitHub's API description: ${problems.join("; ")}` }));
      }
      const input = body ?? {};
      if (method === "GET" && pathname === "/user") {
        const base = example("GET", "/user", 200);
        return send(200, { ...account(state.user, base), name: state.user });
      }
      let org: RegExpExecArray | null;
      if (method === "GET" && (org = /^\/orgs\/([^/]+)$/.exec(pathname))) {
        if (!isOrg(org[1])) return fail(404, "Not Found");
        return send(200, { ...example("GET", "/orgs/{org}", 200), login: org[1], id: 1, archived_at: null, html_url: `${webRoot}/${org[1]}` });
      }
      let created: RegExpExecArray | null;
      if (method === "POST" && ((created = /^\/orgs\/([^/]+)\/repos$/.exec(pathname)) || pathname === "/user/repos")) {
        const owner = created ? created[1] : state.user;
        if (created && !isOrg(owner)) return fail(404, "Not Found");
        // What GitHub reads: on /user/repos only `private` (default false: public); in an organisation `visibility`, else `private`.
        const visibility: Visibility = created && input.visibility ? input.visibility : input.private === true ? "private" : "public";
        const creation = (field: string, message: string) =>
          fail(422, "Repository creation failed.", [{ resource: "Repository", code: "custom", field, message }]);
        if (repos.has(`${owner}/${input.name}`)) return creation("name", "name already exists on this account");
        if (visibility === "internal" && !policies.get(owner)?.enterprise) {
          return creation("visibility", "internal repositories can only be created in organizations that belong to an enterprise account");
        }
        if (policies.get(owner)?.refuse?.includes(visibility)) {
          return creation("visibility", `${visibility[0].toUpperCase()}${visibility.slice(1)} repositories are not permitted by ${owner}'s policy`);
        }
        const repo = newRepo(owner, input.name, "main", true, input.description ?? "", visibility);
        repos.set(`${owner}/${input.name}`, repo);
        if (input.auto_init) autoInit(repo, input.name);
        return send(201, repository(`${owner}/${input.name}`, repo, created ? "/orgs/{org}/repos" : "/user/repos", "POST", 201));
      }
      const m = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(pathname);
      const repo = m ? repos.get(`${m[1]}/${m[2]}`) : undefined;
      if (!m || !repo) return fail(404, "Not Found");
      const key = `${m[1]}/${m[2]}`;
      const rest = m[3] ?? "";
      const empty = repo.git.branches().length === 0;
      const isEmpty = () => fail(409, "Git Repository is empty.");
      let r: RegExpExecArray | null;
      if (method === "GET" && rest === "") return send(200, repository(key, repo));
      if (method === "PATCH" && rest === "") {
        const visibility: Visibility | undefined = input.visibility ?? (input.private === undefined ? undefined : input.private ? "private" : "public");
        if (visibility === "internal" && !policies.get(m[1])?.enterprise) {
          return fail(422, "Validation Failed", [
            {
              resource: "Repository",
              code: "custom",
              field: "visibility",
              message: "internal repositories can only be in organizations that belong to an enterprise account",
            },
          ]);
        }
        if (input.description !== undefined) repo.description = input.description;
        if (visibility !== undefined) repo.visibility = visibility;
        if (input.default_branch !== undefined) {
          if (repo.git.ref(input.default_branch) === undefined) {
            return fail(422, "Validation Failed", [
              { resource: "Repository", code: "invalid", field: "default_branch", message: `Cannot update default branch for this repository` },
            ]);
          }
          repo.defaultBranch = input.default_branch;
          repo.git.setHead(repo.defaultBranch);
        }
        return send(200, repository(key, repo, "/repos/{owner}/{repo}", "PATCH", 200));
      }
      if (method === "GET" && rest === "/git/matching-refs/heads") {
        if (empty) return isEmpty();
        return send(
          200,
          repo.git.branches().map(([b, sha]) => gitRef(key, b, sha, "/repos/{owner}/{repo}/git/ref/{ref}", "GET", 200)),
        );
      }
      if (method === "GET" && (r = /^\/git\/ref\/heads\/(.+)$/.exec(rest))) {
        if (empty) return isEmpty();
        const sha = repo.git.ref(r[1]);
        return sha ? send(200, gitRef(key, r[1], sha, "/repos/{owner}/{repo}/git/ref/{ref}", "GET", 200)) : fail(404, "Not Found");
      }
      if (method === "GET" && (r = /^\/git\/commits\/(\w+)$/.exec(rest))) {
        if (empty) return isEmpty();
        const c = repo.git.commit(r[1]);
        return c ? send(200, gitCommit(key, r[1], c, "GET", 200)) : fail(404, "Not Found");
      }
      if (method === "GET" && (r = /^\/git\/trees\/(.+)$/.exec(rest))) {
        // A tree by its SHA, or the tree of a branch's head (GitHub takes a ref name here too).
        if (empty) return isEmpty();
        const byRef = repo.git.ref(r[1]);
        const sha = byRef ? repo.git.commit(byRef)!.tree : r[1];
        if (!repo.git.tree(sha)) return fail(404, "Not Found");
        const base = example("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", 200);
        return send(200, {
          ...base,
          sha,
          url: `${apiRoot}/repos/${key}/git/trees/${sha}`,
          truncated: false,
          tree: treeEntries(key, repo, sha, url.searchParams.has("recursive")),
        });
      }
      if (method === "GET" && (r = /^\/compare\/(\w+)\.\.\.(\w+)$/.exec(rest))) {
        const [base, head] = [r[1], r[2]];
        if (!repo.git.commit(base) || !repo.git.commit(head)) return fail(404, "Not Found");
        const ancestors = (sha: string): Set<string> => {
          const seen = new Set<string>();
          const todo = [sha];
          while (todo.length) {
            const c = todo.pop()!;
            if (seen.has(c)) continue;
            seen.add(c);
            todo.push(...(repo.git.commit(c)?.parents ?? []));
          }
          return seen;
        };
        const status = base === head ? "identical" : ancestors(head).has(base) ? "ahead" : ancestors(base).has(head) ? "behind" : "diverged";
        const ahead = [...ancestors(head)].filter((c) => !ancestors(base).has(c)).length;
        const behind = [...ancestors(base)].filter((c) => !ancestors(head).has(c)).length;
        const answer = example("GET", "/repos/{owner}/{repo}/compare/{basehead}", 200);
        return send(200, { ...answer, status, ahead_by: ahead, behind_by: behind, total_commits: ahead, commits: [], files: [] });
      }
      if (method === "POST" && rest === "/keys") {
        // A public key is a deploy key of one repository only, as on GitHub.
        const inUse = [...repos.values()].some((x) => [...x.keys.values()].some((k) => k.key === input.key));
        if (inUse) return fail(422, "Validation Failed", [{ resource: "PublicKey", code: "custom", field: "key", message: "key is already in use" }]);
        const id = state.nextId++;
        // GitHub's default is a key that can push: read_only must be asked for.
        repo.keys.set(id, { title: input.title ?? "", key: input.key, read_only: input.read_only === true });
        keysChanged(key, repo);
        return send(201, {
          ...example("POST", "/repos/{owner}/{repo}/keys", 201),
          id,
          ...repo.keys.get(id),
          url: `${apiRoot}/repos/${key}/keys/${id}`,
        });
      }
      if (method === "GET" && rest === "/keys") {
        const page = Number(url.searchParams.get("page") ?? "1");
        const perPage = Number(url.searchParams.get("per_page") ?? "30");
        const all = [...repo.keys].map(([id, k]) => ({
          ...example("GET", "/repos/{owner}/{repo}/keys/{key_id}", 200),
          id,
          ...k,
          url: `${apiRoot}/repos/${key}/keys/${id}`,
        }));
        return send(200, all.slice((page - 1) * perPage, page * perPage));
      }
      if ((r = /^\/keys\/(\d+)$/.exec(rest))) {
        const k = repo.keys.get(Number(r[1]));
        if (!k) return fail(404, "Not Found");
        if (method === "GET") return send(200, { ...example("GET", "/repos/{owner}/{repo}/keys/{key_id}", 200), id: Number(r[1]), ...k });
        if (method === "DELETE") {
          repo.keys.delete(Number(r[1]));
          keysChanged(key, repo);
          return send(204);
        }
      }
      if (rest === "/hooks" || rest.startsWith("/hooks/")) {
        // Webhooks are an administrator's: anyone else is told the repository is not there, as GitHub does.
        if (!repo.admin) return fail(404, "Not Found");
        const hookAnswer = (id: number, h: Webhook, template: string, status: number) => ({
          ...example(method, template, status),
          type: "Repository",
          id,
          name: "web",
          active: h.active,
          events: [...h.events],
          config: { url: h.url, content_type: h.contentType, insecure_ssl: h.insecureSsl, ...(h.secret ? { secret: "********" } : {}) },
          url: `${apiRoot}/repos/${key}/hooks/${id}`,
          test_url: `${apiRoot}/repos/${key}/hooks/${id}/test`,
          ping_url: `${apiRoot}/repos/${key}/hooks/${id}/pings`,
          deliveries_url: `${apiRoot}/repos/${key}/hooks/${id}/deliveries`,
        });
        const configOf = (given: Record<string, unknown> | undefined, was?: Webhook) => ({
          url: String(given?.url ?? was?.url ?? ""),
          contentType: String(given?.content_type ?? was?.contentType ?? "form"),
          secret: given && "secret" in given ? String(given.secret ?? "") : (was?.secret ?? ""),
          insecureSsl: String(given?.insecure_ssl ?? was?.insecureSsl ?? "0"),
        });
        if (method === "POST" && rest === "/hooks") {
          const config = configOf(input.config);
          if (!config.url)
            return fail(422, "Validation Failed", [{ resource: "Hook", code: "custom", field: "config", message: "Config must contain url for webhook hook" }]);
          const events = (input.events as string[] | undefined) ?? ["push"];
          const same = [...repo.hooks.values()].some((h) => h.url === config.url && h.events.join() === events.join());
          if (same) return fail(422, "Validation Failed", [{ resource: "Hook", code: "custom", field: "", message: "Hook already exists on this repository" }]);
          const id = state.nextId++;
          repo.hooks.set(id, { ...config, events, active: input.active !== false });
          hooksChanged(key, repo);
          return send(201, hookAnswer(id, repo.hooks.get(id)!, "/repos/{owner}/{repo}/hooks", 201));
        }
        if (method === "GET" && rest === "/hooks") {
          const page = Number(url.searchParams.get("page") ?? "1");
          const perPage = Number(url.searchParams.get("per_page") ?? "30");
          const all = [...repo.hooks].map(([id, h]) => hookAnswer(id, h, "/repos/{owner}/{repo}/hooks/{hook_id}", 200));
          return send(200, all.slice((page - 1) * perPage, page * perPage));
        }
        const hookId = Number(/^\/hooks\/(\d+)$/.exec(rest)?.[1]);
        const h = repo.hooks.get(hookId);
        if (!h) return fail(404, "Not Found");
        if (method === "GET") return send(200, hookAnswer(hookId, h, "/repos/{owner}/{repo}/hooks/{hook_id}", 200));
        if (method === "PATCH") {
          const events = (input.events as string[] | undefined) ?? h.events;
          repo.hooks.set(hookId, { ...configOf(input.config, h), events, active: input.active ?? h.active });
          hooksChanged(key, repo);
          return send(200, hookAnswer(hookId, repo.hooks.get(hookId)!, "/repos/{owner}/{repo}/hooks/{hook_id}", 200));
        }
        if (method === "DELETE") {
          repo.hooks.delete(hookId);
          hooksChanged(key, repo);
          return send(204);
        }
      }
      if (method === "GET" && (r = /^\/git\/blobs\/(\w+)$/.exec(rest))) {
        const content = repo.git.blob(r[1]);
        if (content === undefined) return fail(404, "Not Found");
        return send(200, {
          ...example("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", 200),
          sha: r[1],
          url: `${apiRoot}/repos/${key}/git/blobs/${r[1]}`,
          encoding: "base64",
          size: Buffer.byteLength(content),
          content: Buffer.from(content).toString("base64"),
        });
      }
      if (empty && method === "POST" && rest.startsWith("/git/")) return isEmpty();
      if (method === "POST" && rest === "/git/trees") {
        const files = new Map(input.base_tree ? repo.git.tree(input.base_tree) : []);
        for (const e of input.tree as { path: string; sha?: string | null; content?: string }[]) {
          if (e.sha === null) files.delete(e.path);
          else if (e.content !== undefined) files.set(e.path, repo.git.putBlob(e.content));
          else if (e.sha !== undefined) files.set(e.path, e.sha);
        }
        const sha = repo.git.putTree(files);
        const base = example("POST", "/repos/{owner}/{repo}/git/trees", 201);
        return send(201, { ...base, sha, url: `${apiRoot}/repos/${key}/git/trees/${sha}`, truncated: false, tree: treeEntries(key, repo, sha, false) });
      }
      if (method === "POST" && rest === "/git/commits") {
        if (!repo.git.tree(input.tree)) return fail(422, "Tree SHA does not exist", [{ resource: "Commit", code: "invalid", field: "tree" }]);
        const c = { tree: input.tree, parents: input.parents ?? [], message: input.message };
        const sha = repo.git.putCommit(c.tree, c.parents, c.message);
        return send(201, gitCommit(key, sha, c, "POST", 201));
      }
      if (method === "PATCH" && (r = /^\/git\/refs\/heads\/(.+)$/.exec(rest))) {
        const branch = r[1];
        anotherPushFirst(key, repo, branch);
        const head = repo.git.ref(branch);
        const parents = repo.git.commit(input.sha)?.parents ?? [];
        if (!head) return fail(422, "Reference does not exist");
        if (!input.force && !parents.includes(head)) return fail(422, "Update is not a fast forward");
        repo.git.setRef(branch, input.sha);
        bump(`${key}@${branch}`);
        return send(200, gitRef(key, branch, input.sha, "/repos/{owner}/{repo}/git/refs/{ref}", "PATCH", 200));
      }
      if (method === "POST" && rest === "/git/refs") {
        if (!/^refs\/heads\/.+/.test(String(input.ref))) return fail(422, "Reference name must start with 'refs/' and have at least two slashes.");
        const branch = String(input.ref).replace(/^refs\/heads\//, "");
        if (repo.git.ref(branch) !== undefined) return fail(422, "Reference already exists");
        if (!repo.git.commit(input.sha)) return fail(422, "Object does not exist");
        repo.git.setRef(branch, input.sha);
        bump(`${key}@${branch}`);
        return send(201, gitRef(key, branch, input.sha, "/repos/{owner}/{repo}/git/refs", "POST", 201));
      }
      if (method === "PUT" && (r = /^\/contents\/(.+)$/.exec(rest))) {
        const branch = input.branch ?? repo.defaultBranch;
        const head = repo.git.ref(branch);
        if (!head && !empty) return fail(404, `Branch ${branch} not found`);
        const filePath = decodeURIComponent(r[1]);
        const files = filesOf(repo, branch);
        if (files.has(filePath) && input.sha !== files.get(filePath)) {
          return fail(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', [{ resource: "Contents", code: "missing_field", field: "sha" }]);
        }
        const text = Buffer.from(input.content, "base64").toString("utf8");
        const blob = repo.git.putBlob(text);
        files.set(filePath, blob);
        const sha = commit(repo, files, head ? [head] : [], input.message);
        repo.git.setRef(branch, sha);
        if (repo.git.ref(repo.defaultBranch) === undefined) {
          repo.defaultBranch = branch;
          repo.git.setHead(branch);
        }
        bump(`${key}@${branch}`);
        const base = example("PUT", "/repos/{owner}/{repo}/contents/{path}", 201);
        const c = repo.git.commit(sha)!;
        return send(201, {
          ...base,
          content: { ...base.content, name: filePath.split("/").pop(), path: filePath, sha: blob, size: Buffer.byteLength(text) },
          commit: { ...base.commit, ...gitCommit(key, sha, c, "GET", 200) },
        });
      }
      fail(404, "Not Found");
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeGitHub = {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}${basePath}`,
    requests,
    writes: () => requests.filter((r) => !r.startsWith("GET ") && !r.endsWith(" (query)")),
    reads: () => requests.filter((r) => r.startsWith("GET ") || r.endsWith(" (query)")),
    commitsOn: (owner, repo, branch) => moved.get(`${owner}/${repo}@${branch}`) ?? 0,
    files(owner, name, branch) {
      const repo = repos.get(`${owner}/${name}`)!;
      return new Map([...filesOf(repo, branch)].map(([p, sha]) => [p, repo.git.blob(sha)!]));
    },
    hooks: (owner, name) => [...(repos.get(`${owner}/${name}`)?.hooks.values() ?? [])],
    createRepo(owner, name, o = {}) {
      const repo = newRepo(owner, name, o.defaultBranch, o.admin, o.description, o.visibility);
      repos.set(`${owner}/${name}`, repo);
      if (o.autoInit) autoInit(repo, name);
      if (o.files) {
        const files = filesOf(repo, repo.defaultBranch);
        for (const [p, t] of Object.entries(o.files)) files.set(p, repo.git.putBlob(t));
        const head = repo.git.ref(repo.defaultBranch);
        repo.git.setRef(repo.defaultBranch, commit(repo, files, head ? [head] : [], "initial"));
      }
    },
    repo(owner, name) {
      const r = repos.get(`${owner}/${name}`);
      return r && { description: r.description, visibility: r.visibility, defaultBranch: r.defaultBranch };
    },
    organisations,
    organisation(org, policy) {
      organisations.add(org);
      policies.set(org, policy);
    },
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
      const head = repo.git.ref(branch)!;
      const files = filesOf(repo, branch);
      for (const [p, t] of Object.entries(changes)) {
        if (t === null) files.delete(p);
        else files.set(p, repo.git.putBlob(t));
      }
      repo.git.setRef(branch, commit(repo, files, [head], "out of band"));
    },
    raceOnce(owner, name, branch) {
      races.add(`${owner}/${name}@${branch}`);
    },
    violations,
    takeViolations: () => violations.splice(0),
    close: () =>
      new Promise((resolve) => {
        started.delete(fake);
        // Violations left unclaimed still fail the test that made them (the root hook reads them after close too).
        if (violations.length > 0) orphaned.push(...violations.splice(0));
        server.close(() => resolve());
      }),
  };
  started.add(fake);
  return fake;
}
