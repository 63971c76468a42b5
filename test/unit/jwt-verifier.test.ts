// The token verifier of the WebSocket authorizer (and of the local stack's HTTP API): genuine tokens
// pass, and nothing else does — a genuine token spelt in a non-canonical encoding included.
import { describe, expect, it } from "vitest";
import { isCanonicalJwt, verifierFromEnv } from "../../functions/adapters/jwt-verifier.ts";
import { createTokenIssuer } from "../../local/token-issuer.ts";

const issuer = createTokenIssuer("http://127.0.0.1:1/issuer");
const verifier = verifierFromEnv({
  AUTH_ISSUER: issuer.issuer,
  AUTH_AUDIENCE: issuer.audience,
  AUTH_JWKS: JSON.stringify(issuer.jwks),
});

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The segment with its last character's lowest bit flipped: the same bytes when that bit is unused. */
function flipLastBit(segment: string): string {
  const last = segment.at(-1) ?? "A";
  return segment.slice(0, -1) + (B64URL[B64URL.indexOf(last) ^ 1] ?? "A");
}

describe("token verifier", () => {
  it("accepts a genuine token and returns its subject", async () => {
    expect(await verifier.verify(issuer.sign("alice"))).toBe("alice");
  });

  it("refuses a genuine token with padding appended", async () => {
    // Prepare
    const token = issuer.sign("alice");
    // Act / Assess
    await expect(verifier.verify(`${token}==`)).rejects.toThrow();
    await expect(verifier.verify(`${token}=`)).rejects.toThrow();
  });

  it("refuses a genuine token whose signature's unused low bits were changed", async () => {
    // Prepare: an RS256 signature of 256 bytes is 342 base64url characters, 4 bits unused.
    const token = issuer.sign("alice");
    const [header, payload, signature = ""] = token.split(".");
    const altered = `${header}.${payload}.${flipLastBit(signature)}`;
    expect(Buffer.from(flipLastBit(signature), "base64url")).toEqual(
      Buffer.from(signature, "base64url"),
    );
    // Act / Assess
    await expect(verifier.verify(altered)).rejects.toThrow();
  });

  it("refuses a token with padding or stray characters in the header or payload", async () => {
    const [header = "", payload = "", signature = ""] = issuer.sign("alice").split(".");
    for (const token of [
      `${header}=.${payload}.${signature}`,
      `${header}.${payload}==.${signature}`,
      `${header}.${payload} .${signature}`,
      `${header}.${payload}.${signature}.`,
    ]) {
      await expect(verifier.verify(token)).rejects.toThrow();
    }
  });
});

describe("isCanonicalJwt", () => {
  it("holds for three base64url segments that round-trip, and for nothing else", () => {
    expect(isCanonicalJwt("eyJh.eyJz.c2k")).toBe(true);
    expect(isCanonicalJwt("eyJh.eyJz.c2l")).toBe(false); // the bytes of "c2k", an unused bit set
    expect(isCanonicalJwt("eyJh.eyJz")).toBe(false);
    expect(isCanonicalJwt("eyJh.eyJz.c2ln=")).toBe(false);
    expect(isCanonicalJwt("eyJh.eyJz.c2l+")).toBe(false);
    expect(isCanonicalJwt("eyJh..c2ln")).toBe(false);
  });
});
