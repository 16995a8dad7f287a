// YAML text for Kubernetes objects: one stable style for every file the program writes.
import { parseAllDocuments, stringify } from "yaml";

/** A Kubernetes object as plain data. */
export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

// An object the program reuses (one selector, one list of operations) is written out where it is used,
// never as a YAML anchor and alias: the files stay readable, and every consumer reads them alike.
const OPTIONS = { lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false } as const;

/** One YAML document, ending in a newline. */
export function toYaml(value: unknown): string {
  return stringify(value, OPTIONS);
}

/** Several objects as one multi-document file, each document opened by `---`. */
export function toYamlDocuments(values: readonly unknown[]): string {
  return values.map((v) => `---\n${toYaml(v)}`).join("");
}

/** Every non-empty document of a (multi-document) YAML text, parsed; throws on a syntax error. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}
