// Values the browser carries but must neither read nor change (the sign-in in progress: its state,
// nonce and PKCE verifier): AES-256-GCM with a key made at start, so a restart voids them all.
import { createCipheriv, createDecipheriv, randomBytes } from "crypto";

export class Sealer {
  private readonly key = randomBytes(32);

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64url");
  }

  /** The sealed value; undefined when it was altered, sealed by another process, or not sealed at all. */
  open(text: string | undefined): unknown {
    if (!text) return undefined;
    try {
      const raw = Buffer.from(text, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8"));
    } catch {
      return undefined;
    }
  }
}
