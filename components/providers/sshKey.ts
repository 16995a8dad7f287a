// Dynamic provider generating an SSH key pair (ECDSA P-384) with Node's crypto: no provider plugin to download, the private key a secret in state.
import { generateKeyPairSync, KeyObject } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { DynamicArgs } from "./exec";
import { byReference } from "./reference";

export interface SshKeyInputs {
  /** Changing it replaces the key pair (and so everything holding it). */
  readonly rotation: string;
}

export interface SshKeyOutputs extends SshKeyInputs {
  /** PEM (`EC PRIVATE KEY`), the form Flux and OpenSSH read; secret. */
  readonly privateKeyPem: string;
  /** `ecdsa-sha2-nistp384 AAAA...`, as a deploy key or authorized_keys line takes it. */
  readonly publicKeyOpenssh: string;
}

/** An SSH wire-format string: 4-byte big-endian length, then the bytes. */
function sshString(data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

/** The OpenSSH public key line of an ECDSA P-384 key (RFC 5656: name, curve, uncompressed point). */
export function opensshPublicKey(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });
  if (jwk.crv !== "P-384" || !jwk.x || !jwk.y) throw new Error(`expected an ECDSA P-384 key, got ${jwk.kty} ${jwk.crv ?? ""}`);
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, "base64url"), Buffer.from(jwk.y, "base64url")]);
  const blob = Buffer.concat([sshString(Buffer.from("ecdsa-sha2-nistp384")), sshString(Buffer.from("nistp384")), sshString(point)]);
  return `ecdsa-sha2-nistp384 ${blob.toString("base64")}`;
}

export function generateSshKey(): Pick<SshKeyOutputs, "privateKeyPem" | "publicKeyOpenssh"> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
  return { privateKeyPem: privateKey.export({ type: "sec1", format: "pem" }).toString(), publicKeyOpenssh: opensshPublicKey(publicKey) };
}

export const sshKeyProvider: pulumi.dynamic.ResourceProvider<SshKeyInputs, SshKeyOutputs> = {
  async diff(_id, olds, news) {
    const rotated = olds.rotation !== news.rotation;
    return { changes: rotated, replaces: rotated ? ["rotation"] : [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    const key = generateSshKey();
    return { id: `ssh-${key.publicKeyOpenssh.slice(-16)}`, outs: { ...inputs, ...key } };
  },
  // Nothing outside the state holds the key: deleting it is forgetting it.
};

/** An ECDSA P-384 SSH key pair; the private key is a secret output. */
export class SshKeyResource extends pulumi.dynamic.Resource {
  declare public readonly privateKeyPem: pulumi.Output<string>;
  declare public readonly publicKeyOpenssh: pulumi.Output<string>;

  constructor(name: string, args: DynamicArgs<SshKeyInputs>, opts?: pulumi.CustomResourceOptions) {
    super(
      byReference("sshKey", sshKeyProvider),
      name,
      { ...args, privateKeyPem: undefined, publicKeyOpenssh: undefined },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["privateKeyPem"] }),
      "flux-multi-tenancy",
      "SshKey",
    );
  }
}
