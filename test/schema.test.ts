// The published JSON Schema of the stack settings: made from the readers' defaults and values, in step with the
// committed file, and agreeing with parseConfig on the shipped stack files, the README's examples and bad input.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parse } from "yaml";
import { CONFIG_KEYS, ConfigError, parseConfig, PROJECT } from "../config";
import { SCHEMA_FILE, settingsSchemas, stackSettingsSchema } from "../config/schema";
import { PROJECT_DIR } from "./helpers";

const validator = () => new Ajv({ allErrors: true, strict: false }).compile(stackSettingsSchema());

/** The schema's errors for a stack file's document, one line each ("" when valid). */
function schemaErrors(doc: unknown): string {
  const validate = validator();
  return validate(doc) ? "" : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join("\n");
}

/** The program's own reading of a stack file's config (this project's keys, the prefix dropped). */
function readerProblems(config: Record<string, unknown>, stack: string): string {
  const raw = Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => [k.slice(PROJECT.length + 1), v]),
  );
  try {
    parseConfig(raw, { stack });
    return "";
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

describe("the stack settings' JSON Schema", () => {
  it("is the committed file, made from the readers' defaults and values (npm run schema writes it)", () => {
    const committed = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, SCHEMA_FILE), "utf8")) as unknown;
    assert.deepEqual(committed, JSON.parse(JSON.stringify(stackSettingsSchema())), `${SCHEMA_FILE} is stale: run npm run schema`);
  });

  it("has one entry per config key the program reads, and each key's default where it has one", () => {
    const schemas = settingsSchemas();
    assert.deepEqual(Object.keys(schemas).sort(), [...CONFIG_KEYS].sort());
    const cluster = schemas.cluster as { properties: Record<string, { default?: unknown }> };
    assert.equal(cluster.properties.provider.default, "kind");
    assert.deepEqual((schemas.flux as { properties: Record<string, { default?: unknown }> }).properties.components.default, [
      "source-controller",
      "kustomize-controller",
      "helm-controller",
      "notification-controller",
    ]);
  });

  for (const stack of ["staging", "production"]) {
    it(`validates the shipped Pulumi.${stack}.yaml, which points editors at it`, () => {
      const text = fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8");
      assert.match(text.split("\n")[0], new RegExp(`^# yaml-language-server: \\$schema=\\./${SCHEMA_FILE.replace(/\./g, "\\.")}$`));
      const doc = parse(text) as { config: Record<string, unknown> };
      assert.equal(schemaErrors(doc), "");
      assert.equal(readerProblems(doc.config, stack), "", "and parseConfig accepts it too");
    });
  }

  it("validates every stack-settings example in the README", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.startsWith(`${PROJECT}:`));
    assert.ok(blocks.length >= 3, `README examples found: ${blocks.length}`);
    for (const block of blocks) assert.equal(schemaErrors({ config: parse(block) }), "", block);
  });

  // Each refused by the schema and by parseConfig alike: an editor shows what up would say.
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ["a key of ours that does not exist", { [`${PROJECT}:tenant`]: [] }, /must NOT have additional properties/],
    [
      "a cluster provider not supported",
      { [`${PROJECT}:cluster`]: { provider: "minikube" } },
      /\/config\/flux-multi-tenancy:cluster\/provider must be equal to one of the allowed values/,
    ],
    [
      "a field a tenant does not have",
      { [`${PROJECT}:tenants`]: [{ name: "a", repo: "x" }] },
      /\/config\/flux-multi-tenancy:tenants\/0 must NOT have additional properties/,
    ],
    [
      "a Flux component that does not exist",
      { [`${PROJECT}:flux`]: { components: ["source-controller", "kustomize-controller", "helm"] } },
      /components\/2 must be equal to one of the allowed values/,
    ],
    ["a receiver that is neither a boolean nor created", { [`${PROJECT}:fleet`]: { owner: "o", receiver: "yes" } }, /fleet\/receiver/],
  ];
  for (const [what, config, message] of refused) {
    it(`refuses ${what}, as parseConfig does`, () => {
      assert.match(schemaErrors({ config }), message);
      assert.notEqual(readerProblems({ [`${PROJECT}:fleet`]: { owner: "o" }, ...config }, "staging"), "");
    });
  }

  it("leaves other namespaces' keys alone (aws:region, pulumi:disable-default-providers)", () => {
    assert.equal(schemaErrors({ config: { "aws:region": "eu-west-1", "pulumi:disable-default-providers": ["kubernetes"] } }), "");
  });
});
