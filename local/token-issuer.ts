// The local stack's token issuer: an RSA key made at start, RS256 JWTs, and the JWKS that the real
// authorizer code verifies them with.
import { createSign, generateKeyPairSync, type JsonWebKey, randomUUID } from "node:crypto";

export interface TokenIssuer {
  issuer: string;
  audience: string;
  jwks: { keys: JsonWebKey[] };
  sign(userId: string, ttlS?: number, overrides?: Record<string, unknown>): string;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

export function createTokenIssuer(issuer: string, audience = "nearby-friends-local"): TokenIssuer {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  return {
    issuer,
    audience,
    jwks: { keys: [jwk] },
    sign(userId, ttlS = 12 * 3600, overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
      const payload = b64url(
        JSON.stringify({
          sub: userId,
          iss: issuer,
          aud: audience,
          iat: now,
          exp: now + ttlS,
          ...overrides,
        }),
      );
      const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(privateKey);
      return `${header}.${payload}.${b64url(signature)}`;
    },
  };
}
