// Reading raw values: the Reader that collects one problem per bad value (key, value, fix), and the checks several sections share.
import * as path from "path";
import { PROJECT } from "./types";
import { DEFAULTS } from "./defaults";

/** Thrown for bad input; `problems` holds one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_HINT = "use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit";

export const FLUX_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
// GitHub owner (user or org) and repository names.
export const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
export const GITHUB_REPO = /^[A-Za-z0-9._-]{1,100}$/;
export const GIT_REF = /^(?!\/|.*\/\/|.*\.\.|.*\.lock$|.*\/$)[^\s~^:?*[\\]+$/;
export const GIT_URL = /^(https?|ssh):\/\/[^\s]+$/;

/**
 * The URL with its credentials masked, when it carries any: a user or token in an https:// or oci:// URL, a password
 * in an ssh:// URL (its user, such as git, is not a secret). Undefined for a URL without credentials.
 */
export function maskedCredentials(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const carries = u.protocol === "ssh:" ? u.password !== "" : u.username !== "" || u.password !== "";
  if (!carries) return undefined;
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, u.protocol === "ssh:" ? `$1${u.username}:***@` : "$1***@");
}

export type Raw = Record<string, unknown>;

/** Collects problems while reading one stack's raw config. */
export class Reader {
  readonly problems: string[] = [];

  constructor(readonly raw: Raw) {}

  fail(key: string, value: unknown, why: string, fix: string): void {
    const shown = value === undefined ? "(unset)" : JSON.stringify(value);
    this.problems.push(`${PROJECT}:${key}: ${shown} ${why}; ${fix}.`);
  }

  /**
   * Refuses a URL carrying credentials (they would be committed to the fleet repository in clear, and shown in
   * every diff), with its credentials masked in the message; true when it did.
   */
  credentials(key: string, value: unknown, fix: string): boolean {
    const masked = typeof value === "string" ? maskedCredentials(value) : undefined;
    if (masked === undefined) return false;
    this.fail(key, masked, "carries credentials in the URL, which would be committed to the fleet repository in clear", fix);
    return true;
  }

  /** The object at a top-level key, defaults merged per field; unknown fields are reported. */
  object<T extends object>(key: keyof typeof DEFAULTS & string, defaults: T): T {
    const value = this.raw[key];
    if (value === undefined || value === null) return defaults;
    if (!isPlainObject(value)) {
      this.fail(key, value, "is not an object", `set it as a YAML map (see Pulumi.yaml for its fields)`);
      return defaults;
    }
    this.unknownFields(key, value, Object.keys(defaults));
    return { ...defaults, ...value } as T;
  }

  unknownFields(key: string, value: Raw, known: readonly string[]): void {
    for (const field of Object.keys(value)) {
      if (!known.includes(field)) {
        this.fail(`${key}.${field}`, value[field], "is not a known field", `known fields are ${known.join(", ")}`);
      }
    }
  }

  string(key: string, value: unknown, allowEmpty = false): string {
    if (typeof value === "string" && (allowEmpty || value.trim() !== "")) return value.trim();
    this.fail(key, value, allowEmpty ? "is not a string" : "is empty or not a string", "set a non-empty string");
    return "";
  }

  boolean(key: string, value: unknown): boolean {
    if (typeof value === "boolean") return value;
    this.fail(key, value, "is not a boolean", "set true or false");
    return false;
  }

  oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    this.fail(key, value, "is not supported", `use one of ${allowed.join(", ")}`);
    return allowed[0];
  }

  stringList(key: string, value: unknown): string[] {
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
    this.fail(key, value, "is not a list of strings", "set a YAML list of strings");
    return [];
  }

  dns1123(key: string, value: unknown): string {
    const s = this.string(key, value);
    if (s !== "" && (!DNS1123_LABEL.test(s) || s.length > 63)) {
      this.fail(key, value, "is not a DNS-1123 label", DNS1123_HINT);
    }
    return s;
  }

  duration(key: string, value: unknown): string {
    const s = this.string(key, value);
    if (s !== "" && !FLUX_DURATION.test(s)) {
      this.fail(key, value, "is not a duration", 'use a Go duration such as "5m", "720m0s" or "1h30m"');
    }
    return s;
  }

  /**
   * A relative path inside a repository, normalised: `./x` when `leadingDot` (Flux
   * Kustomization style, `./` for the root), otherwise `x` ("" for the root).
   * Undefined when the value is unusable (already reported).
   */
  repoPath(key: string, value: unknown, leadingDot: boolean, fix: string): string | undefined {
    const s = this.string(key, value);
    if (s === "") return undefined;
    if (path.posix.isAbsolute(s) || /^[A-Za-z]:[\\/]/.test(s)) {
      this.fail(key, value, "is an absolute path", fix);
      return undefined;
    }
    const normal = path.posix.normalize(s.replace(/\\/g, "/")).replace(/\/+$/, "");
    if (normal === ".." || normal.startsWith("../")) {
      this.fail(key, value, "escapes the repository with '..'", fix);
      return undefined;
    }
    if (!leadingDot) return normal === "." ? "" : normal;
    return normal === "." ? "./" : `./${normal}`;
  }
}

export function isPlainObject(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Fields of a per-provider settings object, defaults merged; unknown fields reported. */
export function settings(r: Reader, key: string, value: unknown, defaults: object): Raw {
  if (value === undefined || value === null) return { ...defaults };
  if (!isPlainObject(value)) {
    r.fail(key, value, "is not an object", `set it as a YAML map of ${Object.keys(defaults).join(", ")}`);
    return { ...defaults };
  }
  r.unknownFields(key, value, Object.keys(defaults));
  return { ...defaults, ...value };
}

/** A receiver setting: true, false, or "created" (on for a repository the program creates). */
export function receiverSetting(r: Reader, key: string, value: unknown): boolean | "created" {
  if (value === true || value === false || value === "created") return value;
  // The FluxFleet component's args carry these words as strings (its schema has no boolean-or-word type).
  if (value === "true" || value === "false") return value === "true";
  r.fail(key, value, "is not a receiver setting", 'set true, false, or "created" (on for a repository the program creates)');
  return false;
}

/** An ssh:// URL naming a repository on a host: what Flux clones with an SSH key. */
export function sshUrl(r: Reader, key: string, value: unknown, what: string, credentialsFix: string): string {
  const s = r.string(key, value);
  if (s === "" || r.credentials(key, value, credentialsFix)) return "";
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (!u || u.protocol !== "ssh:" || u.hostname === "" || u.pathname.replace(/\/+$/, "") === "" || /\s/.test(s)) {
    r.fail(key, value, "is not an ssh:// URL of a repository", `set ${what}`);
  }
  return s;
}

export function gitBranch(r: Reader, key: string, value: unknown): string {
  const s = r.string(key, value);
  if (s !== "" && !GIT_REF.test(s)) r.fail(key, value, "is not a valid Git branch name", 'use a name such as "main"');
  return s;
}
