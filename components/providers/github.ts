// The GitHub API client the dynamic providers share: GitHub's own throttling and retry plugins, bounded.
import type { Octokit } from "@octokit/rest" with { "resolution-mode": "import" };

/** Retries of one request after a rate limit or a server error; then the error stands. */
export const MAX_RETRIES = 3;

/** A primary rate limit that resets later than this is reported, not waited out. */
const LONGEST_WAIT_SECONDS = 60;

/**
 * A client for `apiUrl` ("" for api.github.com) with `token` ("" reads GITHUB_TOKEN when the provider
 * runs). It spaces writes and waits out `retry-after` as GitHub asks (secondary rate limits), retries
 * server errors, and stops with a clear message when the token's hourly budget is spent.
 * FLUX_MULTI_TENANCY_GITHUB_THROTTLE=off turns the spacing and rate-limit handling off (tests on loopback).
 */
export function githubClient(inputs: { readonly token: string; readonly apiUrl: string }): Octokit {
  // The Octokit packages are ES modules; Node >= 20.19 loads them with require().
  const { Octokit } = require("@octokit/rest") as typeof import("@octokit/rest", { with: { "resolution-mode": "import" } });
  const { throttling } = require("@octokit/plugin-throttling") as typeof import("@octokit/plugin-throttling", { with: { "resolution-mode": "import" } });
  const { retry } = require("@octokit/plugin-retry") as typeof import("@octokit/plugin-retry", { with: { "resolution-mode": "import" } });
  const auth = inputs.token || process.env.GITHUB_TOKEN || undefined;
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
  // A spent hourly budget not worth waiting for: say when it comes back.
  client.hook.error("request", (error, options) => {
    const e = error as { status?: number; response?: { headers?: Record<string, string | undefined> } };
    const headers = e.response?.headers ?? {};
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

/** The HTTP status of a failed GitHub request (undefined for any other error). */
export function status(e: unknown): number | undefined {
  return (e as { status?: number }).status;
}
