// kcd1 delivery blobs (DESIGN §5) against hpke-js: @hpke/core + @hpke/dhkem-x25519.
// The Rust side is core/examples/platform_interop.rs (PLATFORM_INTEROP = its path).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Aes256Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";

const BIN = process.env.PLATFORM_INTEROP;
if (!BIN) throw new Error("PLATFORM_INTEROP must name the platform_interop example binary");
const INFO = new TextEncoder().encode("keycustody/v1/deliver");
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const b64u = (b) => Buffer.from(b).toString("base64url");
const unb64u = (s) => new Uint8Array(Buffer.from(s, "base64url"));
const rust = (args, input = "") => execFileSync(BIN, args, { input });

async function jsOpen(skText, owner, blob) {
  const sk = await suite.kem.importKey("raw", unb64u(skText.replace(/^kcsk1\./, "")).buffer, false);
  const raw = unb64u(blob.replace(/^kcd1\./, ""));
  const recipient = await suite.createRecipientContext({ recipientKey: sk, enc: raw.slice(0, 32).buffer, info: INFO.buffer });
  return new Uint8Array(await recipient.open(raw.slice(32).buffer, new TextEncoder().encode(owner).buffer));
}

async function jsSeal(pkText, owner, pt) {
  const pk = await suite.kem.importKey("raw", unb64u(pkText.replace(/^kcpk1\./, "")).buffer, true);
  const sender = await suite.createSenderContext({ recipientPublicKey: pk, info: INFO.buffer });
  const ct = new Uint8Array(await sender.seal(new TextEncoder().encode(pt).buffer, new TextEncoder().encode(owner).buffer));
  return "kcd1." + b64u(Buffer.concat([Buffer.from(sender.enc), Buffer.from(ct)]));
}

function keypair() {
  const [sk, pk] = rust(["delivery-keypair"]).toString().trim().split("\n");
  const dir = mkdtempSync(join(tmpdir(), "kc-hpke-"));
  const file = join(dir, "sk");
  writeFileSync(file, sk, { mode: 0o600 });
  return { sk, pk, file };
}

test("Rust seals, hpke-js opens; wrong owner fails", async () => {
  const { sk, pk } = keypair();
  const blob = rust(["delivery-seal", pk, "tenant-7"], "sk-ant-from-rust").toString();
  assert.equal(new TextDecoder().decode(await jsOpen(sk, "tenant-7", blob)), "sk-ant-from-rust");
  await assert.rejects(jsOpen(sk, "tenant-8", blob));
});

test("hpke-js seals, Rust opens; wrong owner is DecryptFailed", async () => {
  const { pk, file } = keypair();
  const blob = await jsSeal(pk, "tenant-7", "sk-or-from-js");
  assert.equal(rust(["delivery-open", file, "tenant-7"], blob).toString(), "sk-or-from-js");
  assert.throws(() => rust(["delivery-open", file, "tenant-9"], blob), (e) => e.stderr.toString().trim() === "DecryptFailed");
});

test("committed vectors open in hpke-js", async () => {
  const v = JSON.parse(readFileSync(new URL("../../vectors/delivery_v1.json", import.meta.url)));
  let n = 0;
  for (const c of v.cases) {
    if (c.op === "delivery_seal_with_ikm" || (c.op === "delivery_open" && c.expect === "ok")) {
      const pt = await jsOpen(c.private_key, c.owner, c.blob);
      assert.equal(Buffer.from(pt).toString("hex"), c.plaintext_hex, c.name);
      n++;
    } else if (c.op === "delivery_open" && c.expect === "DecryptFailed") {
      await assert.rejects(jsOpen(c.private_key, c.owner, c.blob), c.name);
      n++;
    }
  }
  assert.ok(n >= 6);
});
