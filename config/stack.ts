// The stack-wide scalar keys: environment, reconcile, webhookBaseUrl.
import { DEFAULTS } from "./defaults";
import { PROJECT, ReconcileConfig } from "./types";
import { DNS1123_HINT, DNS1123_LABEL, Raw, Reader } from "./reader";

/** webhookBaseUrl: "" or an https:// URL (a path prefix allowed), kept without its trailing slash. */
export function readWebhookBaseUrl(r: Reader, value: unknown): string {
  const s = r.string("webhookBaseUrl", value, true).replace(/\/+$/, "");
  if (s === "" || r.credentials("webhookBaseUrl", s, "remove them: the Receiver's path and its token authenticate the call")) return "";
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (!u || u.protocol !== "https:" || u.search !== "" || u.hash !== "") {
    r.fail(
      "webhookBaseUrl",
      value,
      "is not an https:// URL",
      'give the address where notification-controller\'s webhook-receiver Service is reachable from the Git host, e.g. "https://flux-webhook.example.com"',
    );
    return "";
  }
  return s;
}

export function readEnvironment(r: Reader, value: unknown, stack: string): string {
  if (value !== "") {
    const env = r.dns1123("environment", value);
    if (env === "base") {
      r.fail("environment", env, "collides with the shared tenants/base directory", "choose another environment name");
    }
    return env;
  }
  if (!DNS1123_LABEL.test(stack) || stack.length > 63 || stack === "base") {
    r.fail(
      "environment",
      stack,
      "(the stack name, used as environment) is not a usable directory name",
      `set ${PROJECT}:environment explicitly; ${DNS1123_HINT}, and not "base"`,
    );
  }
  return stack;
}

export function readReconcile(r: Reader): ReconcileConfig {
  const c = r.object("reconcile", { ...DEFAULTS.reconcile } as Raw);
  return {
    infrastructureInterval: r.duration("reconcile.infrastructureInterval", c.infrastructureInterval),
    infrastructureTimeout: r.duration("reconcile.infrastructureTimeout", c.infrastructureTimeout),
    policiesInterval: r.duration("reconcile.policiesInterval", c.policiesInterval),
    tenantsInterval: r.duration("reconcile.tenantsInterval", c.tenantsInterval),
  };
}
