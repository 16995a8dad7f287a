// The GitHub API client the dynamic providers share: GitHub's own throttling and retry plugins, bounded.
import type { Octokit } from "@octokit/rest" with { "resolution-mode": "import" };

/** Retries of one request after a rate limit or a server error; then the error stands. */
export const MAX_RETRIES = 3;

/** A primary rate limit that resets later than this is reported, not waited out. */
const LONGEST_WAIT_SECONDS = 60;

/**
 * The token of every GitHub request, in every operation (create, update, refresh, delete) and as
 * pulumi-github reads it too: the stack's github:token (as recorded at the last up) when it has one,
 * else GITHUB_TOKEN as it is when the request is made.
 */
export function githubToken(recorded: string): string | undefined {
  return recorded || process.env.GITHUB_TOKEN || undefined;
}

/**
 * A client for `apiUrl` ("" for api.github.com) with the token `githubToken` chooses. It spaces writes and waits out `retry-after` as GitHub asks (secondary rate limits), retries
 * server errors, and stops with a clear message when the token's hourly budget is spent.
 * FLUX_MULTI_TENANCY_GITHUB_THROTTLE=off turns the spacing and rate-limit handling off (tests on loopback).
 */
export function githubClient(inputs: { readonly token: string; readonly apiUrl: string }): Octokit {
  // The Octokit packages are ES modules; Node >= 20.19 loads them with require().
  const { Octokit } = require("@octokit/rest") as typeof import("@octokit/rest", { with: { "resolution-mode": "import" } });
  const { throttling } = require("@octokit/plugin-throttling") as typeof import("@octokit/plugin-throttling", { with: { "resolution-mode": "import" } });
  const { retry } = require("@octokit/plugin-retry") as typeof import("@octokit/plugin-retry", { with: { "resolution-mode": "import" } });
  const auth = githubToken(inputs.token);
  // Expected answers (404 for a missing branch, 409 for an empty repository, 422 for a lost race) are handled by the callers, not logged.
  const quiet = () => undefined;
  const Client = Octokit.plugin(throttling, retry);
  const client = new Client({
    auth,
    ...(inputs.apiUrl ? { baseUrl: inputs.apiUrl } : {}),
    userAgent: "flux-multi-tenancy",
    log: { debug: quiet, info: quiet, warn: console.warn, error: quiet },
    retry: { retries: MAX_RETRIES, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 451] },
    throttle: {
      enabled: process.env.FLUX_MULTI_TENANCY_GITHUB_THROTTLE !== "off",
      onRateLimit: (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
        retryAfter <= LONGEST_WAIT_SECONDS && retryCount < MAX_RETRIES,
      onSecondaryRateLimit: (_retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < MAX_RETRIES,
    },
  });
  client.hook.error("request", (error, options) => {
    const e = error as { status?: number; response?: { headers?: Record<string, string | undefined> } };
    const headers = e.response?.headers ?? {};
    // A refused token: which one was used, and how to give another.
    if (e.status === 401) {
      throw Object.assign(
        new Error(
          `GitHub refused the token (${githubMessage(error)}) on ${options.method} ${options.url}: the program uses the stack's github:token when it has one, else GITHUB_TOKEN; ` +
            "a refresh or destroy uses the github:token recorded at the last up, so after changing it run pulumi up --refresh=false once to record the new one (no other change is made)",
          { cause: error },
        ),
        { status: 401 },
      );
    }
    // A spent hourly budget not worth waiting for: say when it comes back.
    if ((e.status === 403 || e.status === 429) && headers["x-ratelimit-remaining"] === "0" && headers["x-ratelimit-reset"]) {
      const minutes = Math.max(1, Math.ceil((Number(headers["x-ratelimit-reset"]) * 1000 - Date.now()) / 60_000));
      throw new Error(
        `GitHub's rate limit for this token is spent (${options.method} ${options.url}); it resets in ${minutes} minute(s): run again then, or with another token`,
      );
    }
    throw error;
  });
  return client;
}

/** GitHub's own words for a refused request: its message, and each entry of a 422's `errors` list. */
export function githubMessage(e: unknown): string {
  const data = (e as { response?: { data?: { message?: string; errors?: ({ field?: string; code?: string; message?: string } | string)[] } } }).response?.data;
  if (!data?.message) return (e as Error).message;
  const errors = (data.errors ?? []).map((x) => (typeof x === "string" ? x : (x.message ?? [x.field, x.code].filter(Boolean).join(" "))));
  return errors.length > 0 ? `${data.message} ${errors.join("; ")}` : data.message;
}

/** Whether GitHub refused to create a repository because the name is taken (its documented 422), as opposed to any other refusal. */
export function nameAlreadyExists(e: unknown): boolean {
  const errors = (e as { response?: { data?: { errors?: unknown[] } } }).response?.data?.errors ?? [];
  return (
    status(e) === 422 &&
    errors.some(
      (x) =>
        typeof x === "object" &&
        x !== null &&
        (x as { field?: string }).field === "name" &&
        /already exists/i.test(String((x as { message?: string }).message)),
    )
  );
}

/** The HTTP status of a failed GitHub request (undefined for any other error). */
export function status(e: unknown): number | undefined {
  return (e as { status?: number }).status;
}
