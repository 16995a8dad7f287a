// Dynamic providers for the secrets the program generates with Node's crypto (no provider plugin to download): a Flux
// Receiver's token, and a tenant's SOPS age key, which keeps the key before it for decryption when rotated.
import { generateKeyPairSync, randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { bech32 } from "bech32";
import type { DynamicArgs } from "./exec";
import { byReference } from "./reference";

export interface RotatedInputs {
  /** Changing it makes a new secret. */
  readonly rotation: string;
}

export interface TokenOutputs extends RotatedInputs {
  /** 32 random bytes, hex; secret. */
  readonly token: string;
}

export const tokenProvider: pulumi.dynamic.ResourceProvider<RotatedInputs, TokenOutputs> = {
  async diff(_id, olds, news) {
    const rotated = olds.rotation !== news.rotation;
    return { changes: rotated, replaces: rotated ? ["rotation"] : [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    const token = randomBytes(32).toString("hex");
    return { id: `token-${randomBytes(6).toString("hex")}`, outs: { ...inputs, token } };
  },
  // Nothing outside the state holds the token but the Secret made from it: deleting it is forgetting it.
};

/** A random token (a Flux Receiver's, which GitHub signs its deliveries with); secret. */
export class GeneratedTokenResource extends pulumi.dynamic.Resource {
  declare public readonly token: pulumi.Output<string>;

  constructor(name: string, args: DynamicArgs<RotatedInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("token", tokenProvider),
      name,
      { ...args, token: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["token"] }),
      "flux-multi-tenancy",
      "Token",
    );
  }
}

/** An age X25519 key pair in age's own encodings (bech32): `AGE-SECRET-KEY-1...` and `age1...`. */
export interface AgeKeyPair {
  readonly identity: string;
  readonly recipient: string;
}

/** Longest bech32 string age writes (its keys are far shorter; bech32's default limit of 90 is for addresses). */
const BECH32_LIMIT = 1023;

/** A new age X25519 identity and its recipient, as age-keygen writes them. */
export function generateAgeKey(): AgeKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const d = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const x = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  return {
    identity: bech32.encode("age-secret-key-", bech32.toWords(d), BECH32_LIMIT).toUpperCase(),
    recipient: bech32.encode("age", bech32.toWords(x), BECH32_LIMIT),
  };
}

export interface AgeKeyOutputs extends RotatedInputs, AgeKeyPair {
  /** The key before the last rotation ("" before any), kept so what was encrypted to it stays readable; secret. */
  readonly previousIdentity: string;
  readonly previousRecipient: string;
}

export const ageKeyProvider: pulumi.dynamic.ResourceProvider<RotatedInputs, AgeKeyOutputs> = {
  // A rotation is an update, not a replacement: the new key comes in and the current one becomes the previous.
  async diff(_id, olds, news) {
    return { changes: olds.rotation !== news.rotation, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    const key = generateAgeKey();
    return { id: `age-${key.recipient.slice(-12)}`, outs: { ...inputs, ...key, previousIdentity: "", previousRecipient: "" } };
  },
  async update(_id, olds, news) {
    return { outs: { ...news, ...generateAgeKey(), previousIdentity: olds.identity, previousRecipient: olds.recipient } };
  },
};

/** A tenant's SOPS age key; the identities are secret outputs, the recipients are not. */
export class AgeKeyResource extends pulumi.dynamic.Resource {
  declare public readonly identity: pulumi.Output<string>;
  declare public readonly recipient: pulumi.Output<string>;
  declare public readonly previousIdentity: pulumi.Output<string>;
  declare public readonly previousRecipient: pulumi.Output<string>;

  constructor(name: string, args: DynamicArgs<RotatedInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("ageKey", ageKeyProvider),
      name,
      { ...args, identity: undefined, recipient: undefined, previousIdentity: undefined, previousRecipient: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["identity", "previousIdentity"] }),
      "flux-multi-tenancy",
      "AgeKey",
    );
  }
}
