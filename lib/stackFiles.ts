// Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to the program, without the CLI.
import { promises as fs } from "fs";
import * as path from "path";
import { parse } from "yaml";

/** Top-level key -> value: the stack's value where set, else the project default. */
export type RawConfig = Record<string, unknown>;

export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

async function readYaml(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    throw new StackFileError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code}); run from the project directory and name an existing stack.`);
  }
  try {
    const value = parse(text) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch (e) {
    throw new StackFileError(`${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** A secure (encrypted) value as the stack file holds it. */
export function isSecureValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/**
 * The project's config for one stack. Project-level declarations give defaults (`default:` or
 * `value:`), the stack file overrides whole keys as Pulumi does; keys of other namespaces
 * (github:, kubernetes:) are not the program's and are left out. Secure values stay encrypted:
 * render only needs to know they are set.
 */
export async function readStackConfig(projectDir: string, stack: string): Promise<{ project: string; raw: RawConfig }> {
  const projectFile = await readYaml(path.join(projectDir, "Pulumi.yaml"));
  const stackFile = await readYaml(path.join(projectDir, `Pulumi.${stack}.yaml`));
  return stackConfigOf(projectFile, stackFile);
}

/** The program's config from a parsed Pulumi.yaml and Pulumi.<stack>.yaml, as readStackConfig reads them from files. */
export function stackConfigOf(projectFile: Record<string, unknown>, stackFile: Record<string, unknown>): { project: string; raw: RawConfig } {
  const project = String(projectFile.name ?? "");
  const raw: RawConfig = {};
  const declared = (projectFile.config ?? {}) as Record<string, unknown>;
  for (const [key, decl] of Object.entries(declared)) {
    const name = key.startsWith(`${project}:`) ? key.slice(project.length + 1) : key;
    if (name.includes(":")) continue;
    if (typeof decl === "object" && decl !== null && !Array.isArray(decl)) {
      const d = decl as Record<string, unknown>;
      if ("value" in d) raw[name] = d.value;
      else if ("default" in d) raw[name] = d.default;
    } else {
      raw[name] = decl;
    }
  }
  for (const [key, value] of Object.entries((stackFile.config ?? {}) as Record<string, unknown>)) {
    if (!key.startsWith(`${project}:`)) continue;
    raw[key.slice(project.length + 1)] = value;
  }
  return { project, raw };
}
