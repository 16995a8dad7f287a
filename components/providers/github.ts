// The GitHub API client the dynamic providers share.
import type { Octokit } from "@octokit/rest" with { "resolution-mode": "import" };

/** A client for `apiUrl` ("" for api.github.com) with `token` ("" reads GITHUB_TOKEN when the provider runs). */
export function githubClient(inputs: { readonly token: string; readonly apiUrl: string }): Octokit {
  // @octokit/rest is an ES module; Node >= 20.19 loads it with require().
  const { Octokit } = require("@octokit/rest") as typeof import("@octokit/rest", { with: { "resolution-mode": "import" } });
  const auth = inputs.token || process.env.GITHUB_TOKEN || undefined;
  // Expected answers (404 for a missing branch, 422 for a lost race) are handled by the callers, not logged.
  const quiet = () => undefined;
  return new Octokit({
    auth,
    ...(inputs.apiUrl ? { baseUrl: inputs.apiUrl } : {}),
    userAgent: "flux-multi-tenancy",
    log: { debug: quiet, info: quiet, warn: console.warn, error: quiet },
  });
}
