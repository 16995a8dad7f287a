// The generated secrets: age keys that age itself (the age-encryption library) encrypts to and decrypts with, the key
// before kept on rotation; Receiver tokens, new on rotation only.
import { strict as assert } from "assert";
import { ageKeyProvider, generateAgeKey, tokenProvider } from "../components/providers/generatedSecrets";

/** age's own TypeScript implementation (ESM, loaded as Node 20 loads it from CommonJS). */
async function age(): Promise<typeof import("age-encryption", { with: { "resolution-mode": "import" } })> {
  return import("age-encryption");
}

describe("generated secrets", () => {
  it("an age key is age's: its recipient is the one age derives from the identity, and what is encrypted to it decrypts with it", async () => {
    const { Encrypter, Decrypter, identityToRecipient } = await age();
    const key = generateAgeKey();
    assert.match(key.identity, /^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}$/);
    assert.match(key.recipient, /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/);
    assert.equal(await identityToRecipient(key.identity), key.recipient);
    const e = new Encrypter();
    e.addRecipient(key.recipient);
    const sealed = await e.encrypt("apiVersion: v1\nkind: Secret\n");
    const d = new Decrypter();
    d.addIdentity(key.identity);
    assert.equal(await d.decrypt(sealed, "text"), "apiVersion: v1\nkind: Secret\n");
    const other = new Decrypter();
    other.addIdentity(generateAgeKey().identity);
    await assert.rejects(other.decrypt(sealed, "text"), /no identity matched/);
  });

  it("rotating an age key updates it in place: a new key, the one before kept as previous", async () => {
    const first = (await ageKeyProvider.create({ rotation: "" })).outs!;
    assert.deepEqual([first.previousIdentity, first.previousRecipient], ["", ""]);
    assert.deepEqual(await ageKeyProvider.diff!("id", first, { rotation: "" }), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await ageKeyProvider.diff!("id", first, { rotation: "2026-11" }), { changes: true, replaces: [], deleteBeforeReplace: false });
    const second = (await ageKeyProvider.update!("id", first, { rotation: "2026-11" })).outs!;
    assert.notEqual(second.identity, first.identity);
    assert.deepEqual([second.previousIdentity, second.previousRecipient, second.rotation], [first.identity, first.recipient, "2026-11"]);
    const third = (await ageKeyProvider.update!("id", second, { rotation: "2026-12" })).outs!;
    assert.deepEqual([third.previousIdentity, third.previousRecipient], [second.identity, second.recipient], "only the key before is kept");
  });

  it("a token is 32 random bytes, replaced only when its rotation changes", async () => {
    const a = (await tokenProvider.create({ rotation: "" })).outs!;
    const b = (await tokenProvider.create({ rotation: "" })).outs!;
    assert.match(a.token, /^[0-9a-f]{64}$/);
    assert.notEqual(a.token, b.token);
    assert.deepEqual(await tokenProvider.diff!("id", a, { rotation: "" }), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await tokenProvider.diff!("id", a, { rotation: "x" }), { changes: true, replaces: ["rotation"], deleteBeforeReplace: false });
  });
});
