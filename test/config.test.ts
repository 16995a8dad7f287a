import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { checkCredentials, checkNotificationSecrets, ConfigError, DEFAULTS, parseConfig } from "../config";
import type { RawConfig } from "../lib/stackFiles";
import { configProblem, PROJECT_DIR, stackConfig } from "./helpers";

type Tenant = Record<string, unknown>;

/** What a tenant gets when neither tenantDefaults nor its entry says otherwise. */
const DEFAULT_FEATURES = {
  podSecurity: "baseline",
  resourceQuota: {},
  limitRange: { default: {}, defaultRequest: {}, max: {} },
  networkPolicy: { mode: "none", allowNamespaces: [], allowCidrs: [] },
  sops: false,
  notifications: { type: "none", events: "errors", channel: "", caCert: "" },
  // On for a repository the program creates (with notification-controller installed): these tenants' are.
  receiver: true,
};

function tenant(name: string, namespace: string, extra: Tenant = {}): Tenant {
  return { name, namespace, repository: { owner: "my-org", name, create: true }, branch: "main", path: "./staging", ...extra };
}

/** The message parseConfig throws for the staging config with `patch` applied. */
function problem(patch: (raw: RawConfig) => void): Promise<string> {
  return configProblem("staging", patch);
}

const set = (key: string, field: string, value: unknown) => (raw: RawConfig) => {
  raw[key] = { ...((raw[key] as object) ?? {}), [field]: value };
};
const tenants =
  (...list: Tenant[]) =>
  (raw: RawConfig) => {
    raw.tenants = list;
  };

describe("config", () => {
  describe("stack files", () => {
    it("staging reads as the reference example on kind", async () => {
      const c = await stackConfig("staging");
      assert.equal(c.environment, "staging");
      assert.equal(c.cluster.provider, "kind");
      assert.equal(c.cluster.name, "staging");
      assert.deepEqual(c.cluster.kind, { nodeImage: "kindest/node:v1.36.1", workers: 1 });
      assert.equal(c.flux.version, "v2.9.4");
      assert.equal(c.flux.path, "clusters/staging");
      assert.deepEqual(c.reconcile, {
        infrastructureInterval: "720m0s",
        infrastructureTimeout: "10m",
        policiesInterval: "15m0s",
        tenantsInterval: "5m",
      });
      assert.deepEqual(c.tenants, [
        {
          name: "dev-team",
          namespace: "apps",
          repository: { type: "github", owner: "my-org", name: "dev-team", create: true, url: "ssh://git@github.com/my-org/dev-team" },
          branch: "main",
          path: "./staging",
          features: DEFAULT_FEATURES,
        },
      ]);
    });

    it("production reads as the reference example on EKS", async () => {
      const c = await stackConfig("production");
      assert.equal(c.cluster.provider, "eks");
      assert.deepEqual(c.cluster.eks, { region: "eu-west-1", version: "1.34", nodeCount: 3, instanceType: "m6i.large", vpcId: "", subnetIds: [] });
      assert.equal(c.flux.path, "clusters/production");
      assert.deepEqual(c.reconcile, { infrastructureInterval: "10m", infrastructureTimeout: "5m", policiesInterval: "5m", tenantsInterval: "5m" });
      assert.equal(c.tenants[0].path, "./production");
    });

    it("stack files hold only deltas: no key repeats its project default", async () => {
      const project = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"));
      for (const stack of ["staging", "production"]) {
        const file = parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8"));
        for (const [key, value] of Object.entries(file.config as Record<string, unknown>)) {
          const name = key.replace(/^flux-multi-tenancy:/, "");
          assert.notDeepEqual(value, project.config[name]?.default, `${stack}: ${key} repeats the default`);
        }
      }
    });

    it("Pulumi.yaml declares every key, with a description and the defaults config/defaults.ts holds", () => {
      const project = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8"));
      assert.equal(project.name, "flux-multi-tenancy");
      const own = Object.entries(project.config as Record<string, { description?: string; default?: unknown }>).filter(([k]) => !k.includes(":"));
      assert.deepEqual(own.map(([k]) => k).sort(), Object.keys(DEFAULTS).sort());
      assert.deepEqual(project.config["pulumi:disable-default-providers"], ["kubernetes"]);
      assert.equal(project.options.refresh, "always");
      for (const [key, decl] of own) {
        assert.ok(decl.description && decl.description.length > 20, `${key} has no description`);
        assert.deepEqual(decl.default, (DEFAULTS as Record<string, unknown>)[key], `${key}: Pulumi.yaml default differs from config/defaults.ts`);
      }
    });

    it("a partial object takes the remaining fields from the defaults", async () => {
      const c = await stackConfig("staging", (raw) => {
        raw.cluster = { kind: { workers: 3 } };
        raw.flux = { version: "v2.7.5" };
      });
      assert.deepEqual(
        { provider: c.cluster.provider, name: c.cluster.name, kind: c.cluster.kind },
        { provider: "kind", name: "staging", kind: { nodeImage: "kindest/node:v1.36.1", workers: 3 } },
      );
      assert.deepEqual(c.cluster.eks, DEFAULTS.cluster.eks);
      assert.equal(c.flux.version, "v2.7.5");
      assert.deepEqual(c.flux.components, DEFAULTS.flux.components);
    });

    it("tenant fields default from the tenant name, the fleet owner and the environment", async () => {
      const c = await stackConfig("staging", tenants({ name: "team-a" }));
      assert.deepEqual(c.tenants, [
        {
          name: "team-a",
          namespace: "team-a",
          repository: { type: "github", owner: "my-org", name: "team-a", create: true, url: "ssh://git@github.com/my-org/team-a" },
          branch: "main",
          path: "./staging",
          features: DEFAULT_FEATURES,
        },
      ]);
    });

    it("a tenant repository given by URL is used as it is", async () => {
      const c = await stackConfig("staging", (raw) => {
        tenants(tenant("dev-team", "apps", { repository: { url: "https://github.com/fluxcd/flux2-multi-tenancy" }, branch: "dev-team" }))(raw);
        raw.policies = { ...(raw.policies as object), allowedSourcePrefixes: ["https://github.com/fluxcd/"] };
      });
      assert.deepEqual(c.tenants[0].repository, { type: "url", url: "https://github.com/fluxcd/flux2-multi-tenancy", deployKey: false });
    });

    it("an empty tenant list is valid", async () => {
      assert.deepEqual((await stackConfig("staging", tenants())).tenants, []);
    });

    it("the environment defaults to the stack name and can be set", async () => {
      const c = await stackConfig("staging", (raw) => (raw.environment = "stage-eu"));
      assert.equal(c.environment, "stage-eu");
      assert.equal(c.flux.path, "clusters/stage-eu");
      assert.equal(c.cluster.name, "stage-eu");
    });

    it("paths are normalised", async () => {
      const c = await stackConfig("staging", (raw) => {
        raw.flux = { path: "./clusters/eu//staging/" };
        raw.tenants = [tenant("dev-team", "apps", { path: "overlays/./staging/" })];
      });
      assert.equal(c.flux.path, "clusters/eu/staging");
      assert.equal(c.tenants[0].path, "./overlays/staging");
    });

    it("the result is frozen", async () => {
      const c = await stackConfig("staging");
      assert.ok(Object.isFrozen(c) && Object.isFrozen(c.tenants[0]) && Object.isFrozen(c.flux.components));
    });
  });

  describe("bad input: one message naming the key, the value and the fix", () => {
    const DNS = "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";
    const cases: [string, (raw: RawConfig) => void, string][] = [
      ["tenant name not DNS-1123", tenants(tenant("Dev_Team", "apps")), `flux-multi-tenancy:tenants[0].name: "Dev_Team" is not a DNS-1123 label; ${DNS}.`],
      [
        "tenant name too long",
        tenants(tenant("a".repeat(64), "apps")),
        `flux-multi-tenancy:tenants[0].name: "${"a".repeat(64)}" is not a DNS-1123 label; ${DNS}.`,
      ],
      [
        "tenant namespace not DNS-1123",
        tenants(tenant("dev-team", "apps.prod")),
        `flux-multi-tenancy:tenants[0].namespace: "apps.prod" is not a DNS-1123 label; ${DNS}.`,
      ],
      [
        "duplicate tenant names",
        tenants(tenant("dev-team", "apps"), tenant("dev-team", "apps-2")),
        `flux-multi-tenancy:tenants[1].name: "dev-team" duplicates tenants[0].name; give every tenant its own name.`,
      ],
      [
        "duplicate tenant namespaces",
        tenants(tenant("team-a", "apps"), tenant("team-b", "apps")),
        `flux-multi-tenancy:tenants[1].namespace: "apps" duplicates tenants[0].namespace; give every tenant its own namespace.`,
      ],
      ...["flux-system", "kube-system", "default"].map((ns): [string, (raw: RawConfig) => void, string] => [
        `tenant namespace ${ns}`,
        tenants(tenant("dev-team", ns)),
        `flux-multi-tenancy:tenants[0].namespace: "${ns}" is reserved for the platform; give the tenant a namespace of its own.`,
      ]),
      ...["kube-public", "kube-node-lease", "kube-anything", "kyverno"].map((ns): [string, (raw: RawConfig) => void, string] => [
        `tenant namespace ${ns} (Kubernetes' own, or the policy engine's)`,
        tenants(tenant("dev-team", ns)),
        `flux-multi-tenancy:tenants[0].namespace: "${ns}" is reserved for the platform; give the tenant a namespace of its own.`,
      ]),
      [
        "an allowlist prefix on plain http",
        set("policies", "allowedSourcePrefixes", ["http://git.example.com/my-org/"]),
        `flux-multi-tenancy:policies.allowedSourcePrefixes[0]: "http://git.example.com/my-org/" admits plain http://, which anyone on the way can read and change; use an https:// or ssh:// prefix.`,
      ],
      [
        "an allowlist prefix that does not end at a path boundary",
        set("policies", "allowedSourcePrefixes", ["https://github.com/my-org"]),
        `flux-multi-tenancy:policies.allowedSourcePrefixes[0]: "https://github.com/my-org" does not end at a path boundary, so it also admits e.g. "https://github.com/my-org-evil"; end it with "/": "https://github.com/my-org/".`,
      ],
      [
        "an allowlist prefix that is no source URL",
        set("policies", "allowedSourcePrefixes", ["ghcr.io/my-org/"]),
        `flux-multi-tenancy:policies.allowedSourcePrefixes[0]: "ghcr.io/my-org/" is not a source URL prefix; use e.g. "https://github.com/my-org/", "ssh://git@github.com/my-org/" or, for OCI artifacts and images, "oci://ghcr.io/my-org/".`,
      ],
      [
        "a created tenant repository whose starter chart repository the allowlist refuses",
        set("policies", "allowedSourcePrefixes", ["https://github.com/my-org/", "ssh://git@github.com/my-org/"]),
        `flux-multi-tenancy:tenants[0].repository: "my-org/dev-team" is created with the starter layout, whose HelmRepository https://stefanprodan.github.io/podinfo policies.allowedSourcePrefixes does not admit, so its first reconcile would be refused; add "https://stefanprodan.github.io/podinfo/" to policies.allowedSourcePrefixes, or create the repository yourself with create: false.`,
      ],
      [
        "a tenant source on plain http",
        tenants(tenant("dev-team", "apps", { repository: { url: "http://git.example.com/dev-team.git" } })),
        `flux-multi-tenancy:tenants[0].repository.url: "http://git.example.com/dev-team.git" is plain http://, which anyone on the way can read and change; use the repository's https:// or ssh:// URL.`,
      ],
      [
        "credentials inside a URL are refused: a token in a tenant's https URL (masked in the message)",
        tenants(tenant("dev-team", "apps", { repository: { url: "https://bot:ghp_secret123@github.com/my-org/dev-team" } })),
        `flux-multi-tenancy:tenants[0].repository.url: "https://***@github.com/my-org/dev-team" carries credentials in the URL, which would be committed to the fleet repository in clear; remove them, and give dev-team read access another way: { url: "ssh://...", deployKey: true } (the program makes the key), or a GitHub repository ({ owner, name }).`,
      ],
      [
        "credentials inside a URL are refused: a token alone in an https URL",
        tenants(tenant("dev-team", "apps", { repository: { url: "https://ghp_secret123@github.com/my-org/dev-team" } })),
        `flux-multi-tenancy:tenants[0].repository.url: "https://***@github.com/my-org/dev-team" carries credentials in the URL, which would be committed to the fleet repository in clear; remove them, and give dev-team read access another way: { url: "ssh://...", deployKey: true } (the program makes the key), or a GitHub repository ({ owner, name }).`,
      ],
      [
        "credentials inside a URL are refused: an allowlist prefix",
        set("policies", "allowedSourcePrefixes", ["https://user:token@github.com/my-org/", "oci://robot:pw@ghcr.io/my-org/"]),
        [
          `flux-multi-tenancy:policies.allowedSourcePrefixes[0]: "https://***@github.com/my-org/" carries credentials in the URL, which would be committed to the fleet repository in clear; remove them: a prefix is matched against tenant sources' URLs, which carry no credentials (a source's credentials go in the Secret its spec.secretRef names).`,
          `flux-multi-tenancy:policies.allowedSourcePrefixes[1]: "oci://***@ghcr.io/my-org/" carries credentials in the URL, which would be committed to the fleet repository in clear; remove them: a prefix is matched against tenant sources' URLs, which carry no credentials (a source's credentials go in the Secret its spec.secretRef names).`,
        ].join("\n"),
      ],
      [
        "credentials inside a URL are refused: a password in an ssh URL (the user is no secret)",
        tenants(tenant("dev-team", "apps", { repository: { url: "ssh://git:hunter2@git.example.com/dev-team.git", deployKey: true } })),
        `flux-multi-tenancy:tenants[0].repository.url: "ssh://git:***@git.example.com/dev-team.git" carries credentials in the URL, which would be committed to the fleet repository in clear; remove the password: Flux reads with the deploy key the program generates.`,
      ],
      [
        "a tenant source the allowlist would refuse",
        tenants(tenant("dev-team", "apps", { repository: { owner: "other-org", name: "apps", create: false } })),
        `flux-multi-tenancy:tenants[0].repository: "ssh://git@github.com/other-org/apps" is not admitted by policies.allowedSourcePrefixes (https://github.com/my-org/, ssh://git@github.com/my-org/, https://stefanprodan.github.io/podinfo/), so the source allowlist would refuse its GitRepository; add a prefix that admits it, or move the repository under an admitted one.`,
      ],
      [
        "two tenants that would create the same repository",
        tenants(
          tenant("team-a", "team-a", { repository: { owner: "my-org", name: "apps", create: true } }),
          tenant("team-b", "team-b", { repository: { owner: "my-org", name: "Apps", create: true } }),
        ),
        `flux-multi-tenancy:tenants[1].repository: "my-org/Apps" is also tenants[0]'s repository, and both would create it; give every tenant its own repository, or set create: false on all but one.`,
      ],
      [
        "a tenant reading the fleet repository",
        tenants(tenant("team-a", "team-a", { repository: { owner: "my-org", name: "fleet-infra", create: false } })),
        `flux-multi-tenancy:tenants[0].repository: "my-org/fleet-infra" is the fleet repository, which holds every tenant's and the platform's files; give the tenant a repository of its own.`,
      ],
      [
        "a Flux controller's account as the tenants' default",
        set("flux", "defaultServiceAccount", "kustomize-controller"),
        `flux-multi-tenancy:flux.defaultServiceAccount: "kustomize-controller" is a Flux controller's account, which holds the platform's rights; tenants without serviceAccountName would reconcile with them; keep a zero-privilege account such as "default".`,
      ],
      [
        "a cluster path outside clusters/",
        set("flux", "path", "fleet/staging"),
        `flux-multi-tenancy:flux.path: "fleet/staging" is not under clusters/, where the shared-file rule and destroy look for a stack's files; use a directory inside the fleet repository, e.g. "clusters/staging".`,
      ],
      [
        "a Flux release older than the API versions rendered",
        set("flux", "version", "v2.5.1"),
        `flux-multi-tenancy:flux.version: "v2.5.1" is older than v2.6.0, the first release serving OCIRepository as source.toolkit.fluxcd.io/v1 (the Kyverno source), beside GitRepository v1, Kustomization v1 and HelmRelease v2; use v2.6.0 or later.`,
      ],
      [
        "the workload-identity lockdown on a Flux whose helm-controller lacks its gate",
        (raw) => void (raw.flux = { version: "v2.6.3", workloadIdentityLockdown: true }),
        `flux-multi-tenancy:flux.workloadIdentityLockdown: true needs Flux v2.7.0 or later (flux.version is v2.6.3, whose controllers would refuse the lockdown's flags and not start); set flux.version to v2.7.0 or later, or leave the lockdown off.`,
      ],
      [
        "unknown cluster provider",
        set("cluster", "provider", "minikube"),
        `flux-multi-tenancy:cluster.provider: "minikube" is not supported; use one of kind, existing, eks, gke, aks.`,
      ],
      ["unknown policy engine", set("policies", "engine", "opa"), `flux-multi-tenancy:policies.engine: "opa" is not supported; use one of kyverno, vap, none.`],
      [
        "missing fleet owner",
        set("fleet", "owner", ""),
        `flux-multi-tenancy:fleet.owner: "" is missing; set the GitHub user or organisation that owns the fleet repository: pulumi config set --path flux-multi-tenancy:fleet.owner my-org.`,
      ],
      [
        "missing fleet repository name",
        set("fleet", "repository", ""),
        `flux-multi-tenancy:fleet.repository: "" is empty or not a string; set a non-empty string.`,
      ],
      [
        "Flux version not vX.Y.Z",
        set("flux", "version", "latest"),
        `flux-multi-tenancy:flux.version: "latest" is not a pinned Flux release; use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved).`,
      ],
      [
        "Flux version without the v",
        set("flux", "version", "2.9.4"),
        `flux-multi-tenancy:flux.version: "2.9.4" is not a pinned Flux release; use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved).`,
      ],
      [
        "absolute cluster path",
        set("flux", "path", "/clusters/staging"),
        `flux-multi-tenancy:flux.path: "/clusters/staging" is an absolute path; use a directory inside the fleet repository, e.g. "clusters/staging".`,
      ],
      [
        "cluster path escaping with ..",
        set("flux", "path", "clusters/../../etc"),
        `flux-multi-tenancy:flux.path: "clusters/../../etc" escapes the repository with '..'; use a directory inside the fleet repository, e.g. "clusters/staging".`,
      ],
      [
        "cluster path at the repository root",
        set("flux", "path", "./"),
        `flux-multi-tenancy:flux.path: "./" is the repository root; use a directory inside the fleet repository, e.g. "clusters/staging".`,
      ],
      [
        "absolute tenant path",
        tenants(tenant("dev-team", "apps", { path: "/staging" })),
        `flux-multi-tenancy:tenants[0].path: "/staging" is an absolute path; use a directory inside the tenant repository, e.g. "./staging".`,
      ],
      [
        "tenant path escaping with ..",
        tenants(tenant("dev-team", "apps", { path: "../other" })),
        `flux-multi-tenancy:tenants[0].path: "../other" escapes the repository with '..'; use a directory inside the tenant repository, e.g. "./staging".`,
      ],
      [
        "unknown component name",
        set("flux", "components", ["source-controller", "kustomize-controller", "flagger"]),
        `flux-multi-tenancy:flux.components[2]: "flagger" is not a Flux component; use some of source-controller, kustomize-controller, helm-controller, notification-controller.`,
      ],
      [
        "optional component among the defaults",
        set("flux", "components", ["source-controller", "kustomize-controller", "image-reflector-controller"]),
        `flux-multi-tenancy:flux.components[2]: "image-reflector-controller" is not a Flux component; image-reflector-controller is optional: list it under flux.componentsExtra.`,
      ],
      [
        "unknown extra component",
        set("flux", "componentsExtra", ["flagger"]),
        `flux-multi-tenancy:flux.componentsExtra[0]: "flagger" is not an optional Flux component; use some of image-reflector-controller, image-automation-controller, source-watcher.`,
      ],
      [
        "components without kustomize-controller",
        set("flux", "components", ["source-controller"]),
        `flux-multi-tenancy:flux.components: ["source-controller"] lacks kustomize-controller; add kustomize-controller: the fleet cannot sync without it.`,
      ],
      [
        "misspelt tenant field",
        tenants({ ...tenant("dev-team", "apps"), namspace: "apps" }),
        `flux-multi-tenancy:tenants[0].namspace: "apps" is not a known field; known fields are name, namespace, repository, branch, path, podSecurity, resourceQuota, limitRange, networkPolicy, sops, notifications, receiver.`,
      ],
      [
        "unknown config key",
        (raw) => (raw.tenant = []),
        `flux-multi-tenancy:tenant: [] is not a config key of this program; known keys are environment, cluster, flux, github, fleet, policies, reconcile, tenants, tenantServiceAccount, tenantDefaults, knownHosts, deployKeyRotation, sopsKeyRotation, webhookBaseUrl, notificationSecrets, kubeconfig, fleetSshKey.`,
      ],
      [
        "environment named base",
        (raw) => (raw.environment = "base"),
        `flux-multi-tenancy:environment: "base" collides with the shared tenants/base directory; choose another environment name.`,
      ],
      [
        "empty source allowlist",
        set("policies", "allowedSourcePrefixes", []),
        `flux-multi-tenancy:policies.allowedSourcePrefixes: [] is empty, so the source allowlist would refuse every tenant; list the URL prefixes tenants may sync from, e.g. ["https://github.com/my-org/", "ssh://git@github.com/my-org/"].`,
      ],
      [
        "bad duration",
        set("reconcile", "tenantsInterval", "5 minutes"),
        `flux-multi-tenancy:reconcile.tenantsInterval: "5 minutes" is not a duration; use a Go duration such as "5m", "720m0s" or "1h30m".`,
      ],
      [
        "negative worker count",
        set("cluster", "kind", { workers: -1 }),
        `flux-multi-tenancy:cluster.kind.workers: -1 is not a whole number of worker nodes; set 0 or more.`,
      ],
      [
        "tenant repository URL that is not a Git URL",
        tenants(tenant("dev-team", "apps", { repository: { url: "github.com/fluxcd/x" } })),
        `flux-multi-tenancy:tenants[0].repository.url: "github.com/fluxcd/x" is not a Git URL; use an https:// or ssh:// URL, e.g. "https://github.com/fluxcd/flux2-multi-tenancy".`,
      ],
    ];
    for (const [name, patch, message] of cases) {
      it(name, async () => assert.equal(await problem(patch), message));
    }

    it("what is refused only because of another setting passes without it: an unadmitted source under Audit, a kyverno namespace under vap", async () => {
      const audit = await stackConfig("staging", (raw) => {
        tenants(tenant("dev-team", "apps", { repository: { owner: "other-org", name: "apps", create: false } }))(raw);
        raw.policies = { ...(raw.policies as object), validationFailureAction: "Audit" };
      });
      assert.equal(audit.tenants[0].repository.type, "github");
      const vap = await stackConfig("staging", (raw) => {
        tenants(tenant("dev-team", "kyverno"))(raw);
        raw.policies = { ...(raw.policies as object), engine: "vap" };
      });
      assert.equal(vap.tenants[0].namespace, "kyverno");
      const shared = await stackConfig("staging", (raw) =>
        tenants(
          tenant("team-a", "team-a", { repository: { owner: "my-org", name: "apps", create: true } }),
          tenant("team-b", "team-b", { repository: { owner: "my-org", name: "apps", create: false } }),
        )(raw),
      );
      assert.equal(shared.tenants.length, 2, "two tenants may read one repository that only one creates");
    });

    it("overwriteSharedFiles is no longer config (the CLI kept it in the stack file): its one-shot is an environment variable", async () => {
      assert.equal(
        await problem((raw) => (raw.overwriteSharedFiles = true)),
        "flux-multi-tenancy:overwriteSharedFiles: true is no longer a config key: kept in the stack file, it left the shared-file guard off for good; remove it, and run the one up that should change shared files with FLUX_MULTI_TENANCY_OVERWRITE_SHARED_FILES=true.",
      );
    });

    it("deployKeyRotation takes a date typed as a number", async () => {
      const c = await stackConfig("staging", (raw) => (raw.deployKeyRotation = 20261124));
      assert.equal(c.deployKeyRotation, "20261124");
    });

    it("the kind node image default is a Kubernetes release the pinned Flux supports (1.34 to 1.36 for Flux 2.9)", async () => {
      const c = await stackConfig("staging");
      const minor = Number(/^kindest\/node:v1\.(\d+)\./.exec(c.cluster.kind.nodeImage)?.[1]);
      assert.ok(minor >= 34 && minor <= 36, c.cluster.kind.nodeImage);
      for (const v of [DEFAULTS.cluster.eks.version, DEFAULTS.cluster.gke.version, DEFAULTS.cluster.aks.version])
        assert.ok(["1.34", "1.35", "1.36"].includes(v), v);
      assert.doesNotThrow(() => parseConfig({ fleet: { owner: "o" }, policies: { engine: "none" }, flux: { version: "v2.6.0" } }, { stack: "s" }));
    });

    it("a stack name that cannot serve as environment is refused", () => {
      assert.throws(() => parseConfig({ fleet: { owner: "o" }, policies: { engine: "none" } }, { stack: "Prod_EU" }), {
        message: `flux-multi-tenancy:environment: "Prod_EU" (the stack name, used as environment) is not a usable directory name; set flux-multi-tenancy:environment explicitly; ${DNS}, and not "base".`,
      });
    });

    it("several problems are reported together, one line each", async () => {
      const message = await problem((raw) => {
        set("flux", "version", "latest")(raw);
        tenants(tenant("Bad", "kube-system"))(raw);
      });
      assert.deepEqual(message.split("\n"), [
        `flux-multi-tenancy:flux.version: "latest" is not a pinned Flux release; use the form vX.Y.Z, e.g. "v2.9.4" ("latest" is never resolved).`,
        `flux-multi-tenancy:tenants[0].name: "Bad" is not a DNS-1123 label; ${DNS}.`,
        `flux-multi-tenancy:tenants[0].namespace: "kube-system" is reserved for the platform; give the tenant a namespace of its own.`,
      ]);
    });

    it("an existing cluster needs the kubeconfig secret", async () => {
      const c = await stackConfig("production", (raw) => (raw.cluster = { provider: "existing" }));
      assert.throws(() => checkCredentials(c, { kubeconfig: false, fleetSshKey: false }), {
        message:
          "flux-multi-tenancy:kubeconfig: (unset) is required when cluster.provider is existing; run: pulumi config set --secret flux-multi-tenancy:kubeconfig < path/to/kubeconfig.",
      });
      assert.doesNotThrow(() => checkCredentials(c, { kubeconfig: true, fleetSshKey: false }));
      const kind = await stackConfig("staging");
      assert.doesNotThrow(() => checkCredentials(kind, { kubeconfig: false, fleetSshKey: false }), "kind needs none");
    });

    it("a fleet on another Git host needs the key that pushes to it", async () => {
      const c = await stackConfig("staging", (raw) => {
        raw.fleet = { provider: "git", url: "ssh://git@git.example.com/platform/fleet.git" };
        raw.tenants = [];
        raw.knownHosts = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
      });
      assert.throws(() => checkCredentials(c, { kubeconfig: false, fleetSshKey: false }), {
        message:
          "flux-multi-tenancy:fleetSshKey: (unset) is required when fleet.provider is git (the key that pushes to ssh://git@git.example.com/platform/fleet.git); run: pulumi config set --secret flux-multi-tenancy:fleetSshKey < path/to/private-key.",
      });
      assert.doesNotThrow(() => checkCredentials(c, { kubeconfig: false, fleetSshKey: true }));
    });
  });
  describe("a fleet and tenants on any SSH Git host", () => {
    const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const gitFleet =
      (extra: Record<string, unknown> = {}) =>
      (raw: RawConfig) => {
        raw.fleet = { provider: "git", url: "ssh://git@git.example.com:2222/platform/fleet.git", ...extra };
        raw.tenants = [{ name: "team-a", repository: { url: "ssh://git@git.example.com:2222/team-a/apps.git", deployKey: true } }];
        raw.policies = { ...(raw.policies as object), allowedSourcePrefixes: ["ssh://git@git.example.com:2222/"] };
        raw.knownHosts = `[git.example.com]:2222 ${HOST_KEY}\n`;
      };

    it("takes the fleet URL as Flux's, no GitHub fields, and tenants with generated keys", async () => {
      const c = await stackConfig("staging", gitFleet());
      assert.deepEqual(c.fleet, {
        provider: "git",
        url: "ssh://git@git.example.com:2222/platform/fleet.git",
        owner: "",
        repository: "",
        branch: "main",
        visibility: "private",
        create: false,
        receiver: false,
      });
      assert.deepEqual(c.tenants[0].repository, { type: "url", url: "ssh://git@git.example.com:2222/team-a/apps.git", deployKey: true });
      assert.equal(c.knownHosts, `[git.example.com]:2222 ${HOST_KEY}\n`);
    });

    it("on GitHub the URL is GitHub's SSH URL of owner/repository", async () => {
      const c = await stackConfig("staging");
      assert.equal(c.fleet.provider, "github");
      assert.equal(c.fleet.url, `ssh://git@github.com/${c.fleet.owner}/${c.fleet.repository}`);
    });

    it("a known_hosts line on port 22 names the bare host; hashed lines are taken as they are", async () => {
      const c = await stackConfig("staging", (raw) => {
        gitFleet({ url: "ssh://git@git.example.com/platform/fleet.git" })(raw);
        raw.tenants = [];
        raw.knownHosts = `git.example.com,10.0.0.9 ${HOST_KEY}`;
      });
      assert.equal(c.knownHosts, `git.example.com,10.0.0.9 ${HOST_KEY}\n`);
      const hashed = await stackConfig("staging", (raw) => {
        gitFleet()(raw);
        raw.knownHosts = `|1|c2FsdA==|aGFzaA== ${HOST_KEY}`;
      });
      assert.match(hashed.knownHosts, /^\|1\|/);
    });

    const cases: [string, (raw: RawConfig) => void, string][] = [
      [
        "git fleet without a URL",
        (raw) => (gitFleet()(raw), (raw.fleet = { provider: "git" })),
        `flux-multi-tenancy:fleet.url: "" is empty or not a string; set a non-empty string.`,
      ],
      [
        "git fleet on an https URL",
        (raw) => gitFleet({ url: "https://git.example.com/platform/fleet.git" })(raw),
        `flux-multi-tenancy:fleet.url: "https://git.example.com/platform/fleet.git" is not an ssh:// URL of a repository; set the fleet repository's SSH URL, e.g. "ssh://git@git.example.com/platform/fleet.git".`,
      ],
      [
        "git fleet with a GitHub owner",
        (raw) => gitFleet({ owner: "my-org" })(raw),
        `flux-multi-tenancy:fleet.owner: "my-org" is a GitHub setting, unused with fleet.provider git; remove it: fleet.url names the repository.`,
      ],
      [
        "a URL with the GitHub provider",
        set("fleet", "url", "ssh://git@git.example.com/fleet.git"),
        `flux-multi-tenancy:fleet.url: "ssh://git@git.example.com/fleet.git" is for fleet.provider git; remove it (owner and repository name a GitHub repository), or set fleet.provider: git.`,
      ],
      [
        "no host key for the fleet's host",
        (raw) => (gitFleet()(raw), (raw.knownHosts = "")),
        [
          `flux-multi-tenancy:knownHosts: (unset) has no line for [git.example.com]:2222 (the host of fleet.url); add that host's public key line, checked out of band (e.g. ssh-keyscan -p 2222 git.example.com on a trusted network, compared with the host's published fingerprint).`,
          `flux-multi-tenancy:knownHosts: (unset) has no line for [git.example.com]:2222 (the host of tenants[0].repository.url); add that host's public key line, checked out of band (e.g. ssh-keyscan -p 2222 git.example.com on a trusted network, compared with the host's published fingerprint).`,
        ].join("\n"),
      ],
      [
        "a host key for port 22 when the host listens elsewhere",
        (raw) => (gitFleet()(raw), (raw.tenants = []), (raw.knownHosts = `git.example.com ${HOST_KEY}`)),
        `flux-multi-tenancy:knownHosts: "1 line(s)" has no line for [git.example.com]:2222 (the host of fleet.url); add that host's public key line, checked out of band (e.g. ssh-keyscan -p 2222 git.example.com on a trusted network, compared with the host's published fingerprint).`,
      ],
      [
        "a malformed known_hosts line",
        (raw) => (gitFleet()(raw), (raw.knownHosts = `[git.example.com]:2222 ${HOST_KEY}\nnot a key line`)),
        `flux-multi-tenancy:knownHosts: "not a key line" (line 2) is not a known_hosts line; use "<host> <key type> <base64 key>" lines, as ssh-keyscan prints them.`,
      ],
      [
        "a tenant without a repository on a git fleet",
        (raw) => (gitFleet()(raw), (raw.tenants = [{ name: "team-a" }])),
        `flux-multi-tenancy:tenants[0].repository: (unset) is required when fleet.provider is git; set { url: "ssh://git@git.example.com/team-a/apps.git", deployKey: true }, or { owner, name } on GitHub.`,
      ],
      [
        "a deploy key for an https URL",
        (raw) => {
          tenants(tenant("team-a", "team-a", { repository: { url: "https://git.example.com/team-a/apps.git", deployKey: true } }))(raw);
          raw.policies = { ...(raw.policies as object), allowedSourcePrefixes: ["https://git.example.com/"] };
        },
        `flux-multi-tenancy:tenants[0].repository.url: "https://git.example.com/team-a/apps.git" is not an ssh:// URL of a repository; set an ssh:// URL for a deploy key, e.g. "ssh://git@git.example.com/team-a/apps.git".`,
      ],
    ];
    for (const [name, patch, message] of cases) {
      it(name, async () => assert.equal(await problem(patch), message));
    }
  });

  describe("GitHub Enterprise Server", () => {
    const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const ghes =
      (github: Record<string, unknown>, knownHosts = `github.example.com ${HOST_KEY}`) =>
      (raw: RawConfig) => {
        raw.github = github;
        raw.knownHosts = knownHosts;
        raw.policies = {
          ...(raw.policies as object),
          allowedSourcePrefixes: ["ssh://git@github.example.com/my-org/", "https://stefanprodan.github.io/podinfo/"],
        };
      };

    it("github.com by default: api.github.com (no API URL recorded, as for every stack before the key), its built-in host keys", async () => {
      const c = await stackConfig("staging");
      assert.deepEqual(c.github, { host: "github.com", apiUrl: "", sshPort: 22 });
      assert.equal(c.fleet.url, "ssh://git@github.com/my-org/fleet-infra");
      const explicit = await stackConfig("staging", (raw) => (raw.github = { host: "github.com", apiUrl: "https://api.github.com/" }));
      assert.equal(explicit.github.apiUrl, "");
    });

    it("a server's host names every SSH URL Flux clones, its API defaults to https://<host>/api/v3, and its host key comes from knownHosts", async () => {
      const c = await stackConfig("staging", ghes({ host: "GitHub.example.com" }));
      assert.deepEqual(c.github, { host: "github.example.com", apiUrl: "https://github.example.com/api/v3", sshPort: 22 });
      assert.equal(c.fleet.url, "ssh://git@github.example.com/my-org/fleet-infra");
      assert.equal(c.tenants[0].repository.type === "github" && c.tenants[0].repository.url, "ssh://git@github.example.com/my-org/dev-team");
      const moved = await stackConfig("staging", (raw) => {
        ghes({ host: "github.example.com", apiUrl: "https://api.example.com/v3", sshPort: 2222 }, `[github.example.com]:2222 ${HOST_KEY}`)(raw);
        raw.policies = {
          ...(raw.policies as object),
          allowedSourcePrefixes: ["ssh://git@github.example.com:2222/my-org/", "https://stefanprodan.github.io/podinfo/"],
        };
      });
      assert.equal(moved.fleet.url, "ssh://git@github.example.com:2222/my-org/fleet-infra");
      assert.equal(moved.github.apiUrl, "https://api.example.com/v3");
    });

    const cases: [string, (raw: RawConfig) => void, string][] = [
      [
        "a server without its host key line",
        ghes({ host: "github.example.com" }, ""),
        `flux-multi-tenancy:knownHosts: (unset) has no line for github.example.com (the host of github.host); add that host's public key line, checked out of band (e.g. ssh-keyscan github.example.com on a trusted network, compared with the host's published fingerprint).`,
      ],
      [
        "an API URL that is not https",
        ghes({ host: "github.example.com", apiUrl: "http://github.example.com/api/v3" }),
        `flux-multi-tenancy:github.apiUrl: "http://github.example.com/api/v3" is not an https:// URL, so the token would cross the network in clear; give the server's REST API URL, e.g. "https://github.example.com/api/v3".`,
      ],
      [
        "a host given as a URL",
        ghes({ host: "https://github.example.com" }),
        `flux-multi-tenancy:github.host: "https://github.example.com" is not a host name; give the GitHub host alone, e.g. "github.example.com" (no scheme, port or path).`,
      ],
      [
        "an SSH port that is no port",
        ghes({ host: "github.example.com", sshPort: 70000 }),
        `flux-multi-tenancy:github.sshPort: 70000 is not a TCP port; give the port of the host's SSH service (22 unless its admins moved it).`,
      ],
      [
        "credentials in the API URL",
        ghes({ host: "github.example.com", apiUrl: "https://bot:tok@github.example.com/api/v3" }),
        `flux-multi-tenancy:github.apiUrl: "https://***@github.example.com/api/v3" carries credentials in the URL, which would be committed to the fleet repository in clear; remove them: the program reads the token from github:token or GITHUB_TOKEN.`,
      ],
    ];
    for (const [name, patch, message] of cases) {
      it(name, async () => assert.equal(await problem(patch), message));
    }
  });

  describe("tenant guardrails (tenantDefaults, and the same fields on a tenant)", () => {
    it("a tenant's own fields replace tenantDefaults' field by field; a number is a quantity; networkPolicy takes its mode alone", async () => {
      const c = await stackConfig("staging", (raw) => {
        raw.tenantDefaults = {
          podSecurity: "restricted",
          resourceQuota: { pods: 20, "count/kustomizations.kustomize.toolkit.fluxcd.io": "5" },
          networkPolicy: "default-deny",
        };
        raw.tenants = [
          { name: "team-a" },
          {
            name: "team-b",
            podSecurity: "privileged",
            limitRange: { default: { cpu: "500m", memory: "512Mi" } },
            networkPolicy: { mode: "default-deny", allowCidrs: ["10.0.0.0/8"] },
          },
        ];
        raw.policies = { ...(raw.policies as object) };
      });
      assert.deepEqual(c.tenants[0].features, {
        podSecurity: "restricted",
        resourceQuota: { pods: "20", "count/kustomizations.kustomize.toolkit.fluxcd.io": "5" },
        limitRange: { default: {}, defaultRequest: {}, max: {} },
        networkPolicy: { mode: "default-deny", allowNamespaces: [], allowCidrs: [] },
        sops: false,
        notifications: DEFAULT_FEATURES.notifications,
        receiver: true,
      });
      assert.deepEqual(c.tenants[1].features, {
        podSecurity: "privileged",
        resourceQuota: { pods: "20", "count/kustomizations.kustomize.toolkit.fluxcd.io": "5" },
        limitRange: { default: { cpu: "500m", memory: "512Mi" }, defaultRequest: {}, max: {} },
        networkPolicy: { mode: "default-deny", allowNamespaces: [], allowCidrs: ["10.0.0.0/8"] },
        sops: false,
        notifications: DEFAULT_FEATURES.notifications,
        receiver: true,
      });
    });

    const cases: [string, (raw: RawConfig) => void, string][] = [
      [
        "an unknown Pod Security level",
        (raw) => (raw.tenantDefaults = { podSecurity: "strict" }),
        `flux-multi-tenancy:tenantDefaults.podSecurity: "strict" is not supported; use one of restricted, baseline, privileged.`,
      ],
      [
        "a malformed quantity",
        tenants(tenant("dev-team", "apps", { resourceQuota: { "requests.cpu": "two cores" } })),
        `flux-multi-tenancy:tenants[0].resourceQuota.requests.cpu: "two cores" is not a Kubernetes quantity; use e.g. "500m", "2", "512Mi".`,
      ],
      [
        "a quota key Kubernetes does not know the shape of",
        (raw) => (raw.tenantDefaults = { resourceQuota: { "Max Pods": "3" } }),
        `flux-multi-tenancy:tenantDefaults.resourceQuota.Max Pods: "3" is not a ResourceQuota resource's name; use Kubernetes' own names, e.g. requests.cpu, limits.memory, pods, count/kustomizations.kustomize.toolkit.fluxcd.io.`,
      ],
      [
        "a network policy mode it does not have",
        (raw) => (raw.tenantDefaults = { networkPolicy: "deny-all" }),
        `flux-multi-tenancy:tenantDefaults.networkPolicy: "deny-all" is not supported; use one of none, default-deny.`,
      ],
      [
        "an allowed CIDR that is none",
        (raw) => (raw.tenantDefaults = { networkPolicy: { mode: "default-deny", allowCidrs: ["10.0.0.0"] } }),
        `flux-multi-tenancy:tenantDefaults.networkPolicy.allowCidrs[0]: "10.0.0.0" is not a CIDR; use e.g. "10.0.0.0/8".`,
      ],
      [
        "a limit range field it does not have",
        (raw) => (raw.tenantDefaults = { limitRange: { min: { cpu: "1" } } }),
        `flux-multi-tenancy:tenantDefaults.limitRange.min: {"cpu":"1"} is not a known field; known fields are default, defaultRequest, max.`,
      ],
    ];
    for (const [name, patch, message] of cases) {
      it(name, async () => assert.equal(await problem(patch), message));
    }
  });

  describe("tenant secrets, notifications and push-to-deploy (sops, notifications, receiver)", () => {
    it("notifications take a type alone or the whole map; receiver is on for created repositories only, and off without notification-controller", async () => {
      const c = await stackConfig("staging", (raw) => {
        raw.tenantDefaults = { sops: true, notifications: "slack" };
        raw.tenants = [
          tenant("team-a", "team-a"),
          tenant("team-b", "team-b", { repository: { owner: "my-org", name: "team-b", create: false }, notifications: { type: "generic", events: "all" } }),
          tenant("team-c", "team-c", { repository: { owner: "my-org", name: "team-c", create: false }, receiver: true, sops: false }),
        ];
      });
      assert.deepEqual(
        c.tenants.map((t) => [t.features.sops, t.features.notifications, t.features.receiver]),
        [
          [true, { type: "slack", events: "errors", channel: "", caCert: "" }, true],
          [true, { type: "generic", events: "all", channel: "", caCert: "" }, false],
          [false, { type: "slack", events: "errors", channel: "", caCert: "" }, true],
        ],
      );
      assert.equal(c.fleet.receiver, true);
      const without = await stackConfig("staging", (raw) => {
        raw.flux = { ...(raw.flux as object), components: ["source-controller", "kustomize-controller", "helm-controller"] };
      });
      assert.deepEqual([without.fleet.receiver, without.tenants.map((t) => t.features.receiver)], [false, [false]]);
    });

    const cases: [string, (raw: RawConfig) => void, string][] = [
      [
        "an unknown notification type",
        (raw) => (raw.tenantDefaults = { notifications: "pagerduty-sms" }),
        `flux-multi-tenancy:tenantDefaults.notifications: "pagerduty-sms" is not supported; use one of none, slack, msteams, discord, generic, generic-hmac, github.`,
      ],
      [
        "an unknown event choice",
        (raw) => (raw.tenantDefaults = { notifications: { type: "slack", events: "warnings" } }),
        `flux-multi-tenancy:tenantDefaults.notifications.events: "warnings" is not supported; use one of errors, all.`,
      ],
      [
        "a channel on a provider that takes none",
        tenants(tenant("dev-team", "apps", { notifications: { type: "msteams", channel: "ops" } })),
        `flux-multi-tenancy:tenants[0].notifications.channel: "ops" is not used by a msteams provider; remove it (only slack and discord take a channel).`,
      ],
      [
        "a CA that is no certificate",
        tenants(tenant("dev-team", "apps", { notifications: { type: "generic", caCert: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----" } })),
        `flux-multi-tenancy:tenants[0].notifications.caCert: "-----BEGIN CERTIFICATE-----\\nnope\\n-----EN…" is not a PEM certificate; give the CA certificate that signed the address's, as PEM (-----BEGIN CERTIFICATE-----).`,
      ],
      [
        "commit statuses for a repository not on GitHub",
        tenants(tenant("dev-team", "apps", { repository: { url: "https://github.com/my-org/apps.git" }, notifications: "github" })),
        `flux-multi-tenancy:tenants[0].notifications.type: "github" sets commit statuses on the tenant's GitHub repository, and this tenant's repository is not on GitHub; choose another type for this tenant in its own notifications.`,
      ],
      [
        "sops that is not a boolean",
        (raw) => (raw.tenantDefaults = { sops: "yes" }),
        `flux-multi-tenancy:tenantDefaults.sops: "yes" is not a boolean; set true or false.`,
      ],
      [
        "a receiver setting it does not have",
        (raw) => (raw.tenantDefaults = { receiver: "always" }),
        `flux-multi-tenancy:tenantDefaults.receiver: "always" is not a receiver setting; set true, false, or "created" (on for a repository the program creates).`,
      ],
      [
        "a receiver asked for without notification-controller",
        (raw) => {
          raw.flux = { ...(raw.flux as object), components: ["source-controller", "kustomize-controller"] };
          raw.tenantDefaults = { receiver: true };
        },
        `flux-multi-tenancy:flux.components: ["source-controller","kustomize-controller"] leaves out notification-controller, which tenants[0] (dev-team) receiver need; add notification-controller, or turn those off (receiver: false, notifications: none).`,
      ],
      [
        "a webhook address in clear",
        (raw) => (raw.webhookBaseUrl = "http://flux-webhook.example.com"),
        `flux-multi-tenancy:webhookBaseUrl: "http://flux-webhook.example.com" is not an https:// URL; give the address where notification-controller's webhook-receiver Service is reachable from the Git host, e.g. "https://flux-webhook.example.com".`,
      ],
    ];
    for (const [name, patch, message] of cases) {
      it(name, async () => assert.equal(await problem(patch), message));
    }

    describe("notificationSecrets: checked before any resource, never shown", () => {
      const notified = (notifications: unknown) =>
        stackConfig("staging", (raw) => {
          raw.tenantDefaults = { notifications };
          raw.tenants = [tenant("team-a", "team-a"), tenant("team-b", "team-b")];
        });
      const refused = async (notifications: unknown, secrets: unknown): Promise<string> => {
        const c = await notified(notifications);
        try {
          checkNotificationSecrets(c, secrets);
        } catch (e) {
          assert.ok(e instanceof ConfigError);
          return e.message;
        }
        assert.fail("expected the secrets to be refused");
      };

      it("a tenant's own entry over tenantDefaults'; a github provider's address is its repository's page", async () => {
        assert.deepEqual(
          checkNotificationSecrets(await notified("slack"), {
            tenantDefaults: { address: "https://hooks.slack.com/services/T0/B0/shared" },
            "team-b": { address: "https://hooks.slack.com/services/T0/B0/own" },
          }),
          {
            "team-a": { address: "https://hooks.slack.com/services/T0/B0/shared", token: "" },
            "team-b": { address: "https://hooks.slack.com/services/T0/B0/own", token: "" },
          },
        );
        assert.deepEqual(checkNotificationSecrets(await notified("github"), { tenantDefaults: { token: "ghp_status" } }), {
          "team-a": { address: "https://github.com/my-org/team-a", token: "ghp_status" },
          "team-b": { address: "https://github.com/my-org/team-b", token: "ghp_status" },
        });
        assert.deepEqual(checkNotificationSecrets(await notified("none"), undefined), {});
      });

      it("an address in clear is refused without showing its secret path", async () => {
        const message = await refused("generic", { tenantDefaults: { address: "http://hooks.example.com/T0/s3cr3t" } });
        assert.ok(!message.includes("s3cr3t"), message);
        assert.equal(
          message.split("\n")[0],
          `flux-multi-tenancy:notificationSecrets.tenantDefaults.address: "http://hooks.example.com/…" (the rest not shown: a secret) is not an https:// URL, so tenant team-a's events (and the address itself) would cross the network in clear; give the generic webhook's https:// address.`,
        );
      });

      it("a missing address or token names the tenant and the command", async () => {
        assert.equal(
          (await refused("slack", { "team-a": { address: "https://hooks.slack.com/services/a" } })).split("\n")[0],
          `flux-multi-tenancy:notificationSecrets.tenantDefaults.address: (unset) is required by tenant team-b's slack notifications; set it with: pulumi config set --secret --path 'flux-multi-tenancy:notificationSecrets.team-b.address' <url>.`,
        );
        assert.equal(
          (await refused("generic-hmac", { tenantDefaults: { address: "https://hooks.example.com/in" } })).split("\n")[0],
          `flux-multi-tenancy:notificationSecrets.tenantDefaults.token: (unset) is required by tenant team-a's generic-hmac notifications (the key events are signed with); set it with: pulumi config set --secret --path 'flux-multi-tenancy:notificationSecrets.team-a.token' <token>.`,
        );
      });

      it("an entry for no tenant, or a field it does not have, is refused", async () => {
        assert.equal(
          await refused("none", { "team-z": { address: "https://x.example.com" }, "team-a": { adress: "https://x.example.com" } }),
          [
            `flux-multi-tenancy:notificationSecrets.team-z: is not a tenant of this stack; name a tenant (team-a, team-b) or tenantDefaults.`,
            `flux-multi-tenancy:notificationSecrets.team-a.adress: is not a known field; known fields are address, token.`,
          ].join("\n"),
        );
      });
    });
  });
});
