// Pulumi mocks for program tests: set before the program is imported; records every registration.
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

export const registered: Registered[] = [];

pulumi.runtime.setMocks(
  {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call(args: pulumi.runtime.MockCallArgs) {
      return args.inputs;
    },
  },
  "flux-multi-tenancy",
  "staging",
  false,
);

/** Sets the program's config keys as the Pulumi CLI would pass them (objects as JSON). */
export function setStackConfig(raw: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(raw)) {
    pulumi.runtime.setConfig(`flux-multi-tenancy:${key}`, typeof value === "string" ? value : JSON.stringify(value));
  }
}

/** The value of an Output, awaited. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
}
