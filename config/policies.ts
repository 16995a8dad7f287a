// policies: the engine, the layout and the source allowlist.
import { DEFAULTS } from "./defaults";
import { PoliciesConfig, POLICY_ENGINES, POLICY_LAYOUTS, VALIDATION_ACTIONS } from "./types";
import { GIT_URL, Raw, Reader } from "./reader";
import { FLUX_VERSION } from "./flux";

export function readPolicies(r: Reader, environment: string): PoliciesConfig {
  const p = r.object("policies", { ...DEFAULTS.policies } as Raw);
  const engine = r.oneOf("policies.engine", p.engine, POLICY_ENGINES);
  const allowedSourcePrefixes = r.stringList("policies.allowedSourcePrefixes", p.allowedSourcePrefixes);
  for (const [i, prefix] of allowedSourcePrefixes.entries()) {
    const key = `policies.allowedSourcePrefixes[${i}]`;
    if (
      r.credentials(
        key,
        prefix,
        "remove them: a prefix is matched against tenant sources' URLs, which carry no credentials (a source's credentials go in the Secret its spec.secretRef names)",
      )
    ) {
      continue;
    }
    if (!GIT_URL.test(prefix) && !/^[\w.-]+@[\w.-]+:/.test(prefix) && !/^oci:\/\/\S+$/.test(prefix)) {
      r.fail(
        key,
        prefix,
        "is not a source URL prefix",
        'use e.g. "https://github.com/my-org/", "ssh://git@github.com/my-org/" or, for OCI artifacts and images, "oci://ghcr.io/my-org/"',
      );
    } else if (prefix.startsWith("http://")) {
      r.fail(key, prefix, "admits plain http://, which anyone on the way can read and change", "use an https:// or ssh:// prefix");
    } else if (!prefix.endsWith("/") && !prefix.endsWith(":")) {
      r.fail(key, prefix, `does not end at a path boundary, so it also admits e.g. "${prefix}-evil"`, `end it with "/": "${prefix}/"`);
    }
  }
  if (engine !== "none" && Array.isArray(p.allowedSourcePrefixes) && allowedSourcePrefixes.length === 0) {
    r.fail(
      "policies.allowedSourcePrefixes",
      p.allowedSourcePrefixes,
      "is empty, so the source allowlist would refuse every tenant",
      'list the URL prefixes tenants may sync from, e.g. ["https://github.com/my-org/", "ssh://git@github.com/my-org/"]',
    );
  }
  const validationFailureAction = r.oneOf("policies.validationFailureAction", p.validationFailureAction, VALIDATION_ACTIONS);
  const kyvernoVersion = r.string("policies.kyvernoVersion", p.kyvernoVersion);
  if (kyvernoVersion !== "" && !FLUX_VERSION.test(kyvernoVersion)) {
    r.fail("policies.kyvernoVersion", p.kyvernoVersion, "is not a pinned Kyverno release", 'use the form vX.Y.Z, e.g. "v1.14.4"');
  }
  const layout = r.oneOf("policies.layout", p.layout, POLICY_LAYOUTS);
  if (layout === "upstream-2026" && engine !== "vap") {
    r.fail(
      "policies.layout",
      p.layout,
      `is the layout of native admission policies, and policies.engine is ${engine}`,
      'set policies.engine to "vap" with it, or leave policies.layout "infrastructure"',
    );
  }
  // The FluxFleet component's args carry true and false as strings (its schema has no boolean-or-word type).
  const deny = p.denyImageAutomation === "true" || p.denyImageAutomation === "false" ? p.denyImageAutomation === "true" : p.denyImageAutomation;
  let denyImageAutomation = false;
  if (deny === "production") denyImageAutomation = engine === "vap" && environment === "production";
  else if (typeof deny !== "boolean") {
    r.fail("policies.denyImageAutomation", deny, "is not a setting of it", 'set true, false, or "production" (on in the production environment, as upstream)');
  } else if (deny && engine !== "vap") {
    r.fail(
      "policies.denyImageAutomation",
      deny,
      `is a native admission policy, and policies.engine is ${engine}`,
      'set policies.engine to "vap" with it, or leave it "production" (on in the production environment with engine vap)',
    );
  } else denyImageAutomation = deny;
  return { engine, allowedSourcePrefixes, validationFailureAction, kyvernoVersion, layout, denyImageAutomation };
}
