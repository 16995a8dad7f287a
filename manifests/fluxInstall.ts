// Flux's install manifest filtered to the chosen components, with the header `flux bootstrap` writes.
import { createHash } from "crypto";
import { parse } from "yaml";
import { FLUX_COMPONENT_LABEL, FLUX_NAMESPACE, FLUX_VERSION_LABEL } from "./labels";

/** A problem with the install manifest itself; `key` is the config key that chose it. */
export class InstallManifestError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = "InstallManifestError";
  }
}

export interface InstallOptions {
  /** Pinned Flux release the manifest must be, vX.Y.Z. */
  readonly version: string;
  /** Components to keep, in header order (components, then extras). */
  readonly components: readonly string[];
  /** Where the text came from, for error messages (a path or URL). */
  readonly source: string;
  /** Config key that chose the source (`project:key`), for error messages. */
  readonly key: string;
}

interface Doc {
  readonly text: string;
  readonly kind: string;
  readonly name: string;
  readonly component?: string;
  readonly version?: string;
}

/** Splits a multi-document manifest into its documents, keeping each document's text as written. */
function splitDocuments(text: string): string[] {
  return text
    .replace(/\r\n/g, "\n")
    .split(/^---[ \t]*$/m)
    .map((d) => d.replace(/^\n/, ""))
    .map((d) => (d.endsWith("\n") ? d : `${d}\n`))
    .filter((d) => d.split("\n").some((line) => line.trim() !== "" && !line.startsWith("#")));
}

/** Leading comment lines (such as a previous header) are not part of a document. */
function stripLeadingComments(doc: string): string {
  const lines = doc.split("\n");
  let i = 0;
  while (i < lines.length && (lines[i].startsWith("#") || lines[i].trim() === "")) i++;
  return lines.slice(i).join("\n");
}

function readDoc(text: string, opts: InstallOptions): Doc {
  let obj: unknown;
  try {
    obj = parse(text);
  } catch (e) {
    throw new InstallManifestError(
      opts.key,
      `${opts.source} is not valid YAML (${(e as Error).message.split("\n")[0]}); point ${opts.key} at Flux's install.yaml for ${opts.version}.`,
    );
  }
  const o = obj as { kind?: string; metadata?: { name?: string; labels?: Record<string, string> } };
  if (typeof o !== "object" || o === null || typeof o.kind !== "string") {
    throw new InstallManifestError(
      opts.key,
      `${opts.source} holds a document that is not a Kubernetes object; point ${opts.key} at Flux's install.yaml for ${opts.version}.`,
    );
  }
  return {
    text,
    kind: o.kind,
    name: o.metadata?.name ?? "",
    component: o.metadata?.labels?.[FLUX_COMPONENT_LABEL],
    version: o.metadata?.labels?.[FLUX_VERSION_LABEL],
  };
}

/** An object as canonical JSON: keys sorted at every level, so the digest is the object's, not its formatting's. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
  );
}

/**
 * Each object of an install manifest (install.yaml or a gotk-components.yaml) by `<kind>/<namespace>/<name>`, with
 * its component label and the SHA-256 of its canonical JSON.
 */
export function objectDigests(installText: string): Map<string, { component?: string; sha256: string }> {
  const out = new Map<string, { component?: string; sha256: string }>();
  for (const [i, text] of splitDocuments(installText).entries()) {
    const o = parse(i === 0 ? stripLeadingComments(text) : text) as {
      kind?: string;
      metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
    };
    if (typeof o !== "object" || o === null) continue;
    const key = `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
    out.set(key, {
      component: o.metadata?.labels?.[FLUX_COMPONENT_LABEL],
      sha256: createHash("sha256")
        .update(JSON.stringify(canonical(o)))
        .digest("hex"),
    });
  }
  return out;
}

export interface VerifyOptions extends InstallOptions {
  /** The SHA-256 the manifest must have (flux.manifestsSha256), or "" to check it against the pinned object digests. */
  readonly sha256: string;
  /** Per release, `<kind>/<namespace>/<name>` -> SHA-256 of the object in the bootstrap form (labelled with its release). */
  readonly pins: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The same for the release's install.yaml form, which carries no release label (default: none). */
  readonly releasePins?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

const SHA256_KEY = "flux-multi-tenancy:flux.manifestsSha256";

/**
 * Whether the install manifest is what Flux released, not merely labelled so: the whole file against the digest
 * given in config, or else every object the program would install against the digests pinned for the release.
 * Throws, naming the key and the fix, for a mismatch, a release without pins, or objects without one.
 */
export function verifyInstallManifest(installText: string, opts: VerifyOptions): void {
  // What it says it is, first: a manifest of another release is named as such, not as a list of differing objects.
  const docs = checkedDocuments(installText, opts);
  if (opts.sha256 !== "") {
    const actual = createHash("sha256").update(installText, "utf8").digest("hex");
    if (actual !== opts.sha256) {
      throw new InstallManifestError(
        SHA256_KEY,
        `${opts.source} has SHA-256 ${actual}, not ${opts.sha256}: it is not the manifest you checked; get Flux ${opts.version}'s install.yaml again and compare it with the release's checksums file, or correct flux.manifestsSha256.`,
      );
    }
    return;
  }
  // The release's install.yaml carries no release label; `flux bootstrap`'s form does, and was checked to be this release's.
  const releaseForm = docs.find((d) => d.kind === "Namespace" && d.name === FLUX_NAMESPACE)?.version === undefined;
  const forms = releaseForm ? (opts.releasePins ?? {}) : opts.pins;
  const pins = forms[opts.version];
  if (!pins) {
    const form = releaseForm ? "install.yaml form (no release label)" : "bootstrap form";
    throw new InstallManifestError(
      SHA256_KEY,
      `Flux ${opts.version} has no digests pinned in this program for the ${form} (it pins ${Object.keys(forms).join(", ") || "none"}), so ${opts.source} cannot be checked; set flux.manifestsSha256 to the SHA-256 of that release's install.yaml (the release's flux_${opts.version.slice(1)}_checksums.txt lists it).`,
    );
  }
  const chosen = new Set(opts.components);
  const differ: string[] = [];
  const unpinned: string[] = [];
  for (const [key, o] of objectDigests(installText)) {
    if (o.component !== undefined && !chosen.has(o.component)) continue;
    if (pins[key] === undefined) unpinned.push(key);
    else if (pins[key] !== o.sha256) differ.push(key);
  }
  if (differ.length > 0) {
    throw new InstallManifestError(
      opts.key,
      `${opts.source} is not Flux ${opts.version} as released: ${differ.join(", ")} differ from the release's objects (pinned SHA-256); get the release's install.yaml again (delete the cached copy), or give the file you checked with flux.manifests and its SHA-256 in flux.manifestsSha256.`,
    );
  }
  if (unpinned.length > 0) {
    throw new InstallManifestError(
      SHA256_KEY,
      `${opts.source} holds objects this program has no digest of for Flux ${opts.version} (${unpinned.join(", ")}); set flux.manifestsSha256 to the SHA-256 of the install manifest you checked (the release's checksums file lists install.yaml's).`,
    );
  }
}

/** The three header lines `flux bootstrap` writes above gotk-components.yaml. */
export function gotkComponentsHeader(version: string, components: readonly string[]): string {
  return `# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: ${version}\n# Components: ${components.join(",")}\n`;
}

/**
 * gotk-components.yaml from a Flux install manifest (the release's install.yaml or an earlier
 * gotk-components.yaml): objects of unchosen components dropped, documents otherwise kept
 * byte for byte, Flux's header on top. Checks that the manifest is the pinned release and holds
 * every chosen component.
 */
export function renderGotkComponents(installText: string, opts: InstallOptions): string {
  const docs = checkedDocuments(installText, opts);
  const chosen = new Set(opts.components);
  const kept = docs.filter((d) => d.component === undefined || chosen.has(d.component));
  return `---\n${gotkComponentsHeader(opts.version, opts.components)}${kept.map((d) => d.text).join("---\n")}`;
}

/** The manifest's documents, once it is shown to be a Flux install manifest labelled as the release, holding every chosen component. */
function checkedDocuments(installText: string, opts: InstallOptions): Doc[] {
  const docs = splitDocuments(installText).map((d, i) => readDoc(i === 0 ? stripLeadingComments(d) : d, opts));
  const namespace = docs.find((d) => d.kind === "Namespace" && d.name === FLUX_NAMESPACE);
  if (!namespace) {
    throw new InstallManifestError(
      opts.key,
      `${opts.source} has no ${FLUX_NAMESPACE} Namespace, so it is not a Flux install manifest; point ${opts.key} at Flux's install.yaml for ${opts.version}.`,
    );
  }
  // Unlabelled is the release's install.yaml (the object digests then say which release it is); a label must be the release.
  if (namespace.version !== undefined && namespace.version !== opts.version) {
    throw new InstallManifestError(
      opts.key,
      `${opts.source} is Flux ${namespace.version} but flux.version is ${opts.version}; use the install manifest of ${opts.version}, or set flux.version to ${namespace.version}.`,
    );
  }
  const present = new Set(docs.filter((d) => d.kind === "Deployment").map((d) => d.component));
  const missing = opts.components.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new InstallManifestError(
      opts.key,
      `${opts.source} has no ${missing.join(", ")} (it holds ${[...present].join(", ")}); use the release's full install.yaml, or drop ${missing.join(", ")} from flux.components/flux.componentsExtra.`,
    );
  }
  return docs;
}
