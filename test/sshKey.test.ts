// The SSH key provider: keys OpenSSH itself reads, the private key a secret, a new pair on rotation.
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { generateSshKey, sshKeyProvider } from "../components/providers/sshKey";

describe("SSH key provider", () => {
  it("makes an ECDSA P-384 pair that ssh-keygen reads: the public line is the private key's", function () {
    if ((spawnSync("ssh-keygen", ["-?"], { stdio: "ignore" }).error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
      console.log("      skipped: ssh-keygen (openssh-client) is not on PATH");
      this.skip();
    }
    const key = generateSshKey();
    assert.match(key.privateKeyPem, /^-----BEGIN EC PRIVATE KEY-----\n/);
    assert.match(key.publicKeyOpenssh, /^ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQ[A-Za-z0-9+/=]+$/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sshkey-"));
    try {
      fs.writeFileSync(path.join(dir, "id"), key.privateKeyPem, { mode: 0o600 });
      const derived = execFileSync("ssh-keygen", ["-y", "-f", path.join(dir, "id")], { encoding: "utf8" }).trim();
      assert.equal(derived.split(" ").slice(0, 2).join(" "), key.publicKeyOpenssh);
      fs.writeFileSync(path.join(dir, "id.pub"), `${key.publicKeyOpenssh}\n`);
      assert.match(execFileSync("ssh-keygen", ["-l", "-f", path.join(dir, "id.pub")], { encoding: "utf8" }), /^384 SHA256:\S+ .*\(ECDSA\)$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives every key its own pair, and a new one only when the rotation value changes", async () => {
    const a = (await sshKeyProvider.create({ rotation: "" })).outs!;
    const b = (await sshKeyProvider.create({ rotation: "" })).outs!;
    assert.notEqual(a.publicKeyOpenssh, b.publicKeyOpenssh);
    assert.deepEqual(await sshKeyProvider.diff!("id", a, { rotation: "" }), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await sshKeyProvider.diff!("id", a, { rotation: "2026-11-24" }), { changes: true, replaces: ["rotation"], deleteBeforeReplace: false });
  });
});
