// Verifies user tokens: Cognito's in AWS; on the local stack, tokens of the local issuer whose
// public keys are handed over in AUTH_JWKS (the verification itself is the same library code).
// Only the canonical encoding of a token is accepted: base64url decoding ignores padding and the
// unused low bits of a segment's last character, so without the check one genuine token would have
// many spellings that all verify (each a distinct cache key, log value or denylist entry).
import { CognitoJwtVerifier, JwtRsaVerifier } from "aws-jwt-verify";
import type { Jwks } from "aws-jwt-verify/jwk";
import { ConfigError, ENV, optionalEnv, requireEnv } from "../config.ts";
import { USER_ID_PATTERN } from "../domain/frames.ts";

export interface TokenVerifier {
  /** The userId (`sub`) of a valid token; throws for anything else. */
  verify(token: string): Promise<string>;
}

/** Each of the three segments is unpadded base64url that decodes and re-encodes to itself. */
export function isCanonicalJwt(token: string): boolean {
  const segments = token.split(".");
  return (
    segments.length === 3 &&
    segments.every(
      (s) =>
        s.length > 0 &&
        /^[A-Za-z0-9_-]+$/.test(s) &&
        Buffer.from(s, "base64url").toString("base64url") === s,
    )
  );
}

export function verifierFromEnv(env = process.env): TokenVerifier {
  const userPoolId = optionalEnv(ENV.userPoolId, env);
  let verify: (token: string) => Promise<{ sub?: unknown }>;
  if (userPoolId) {
    const v = CognitoJwtVerifier.create({
      userPoolId,
      clientId: requireEnv(ENV.userPoolClientId, env),
      // Access tokens only, as the HTTP API's authorizer (which requires their scope): an ID token
      // is for the app to read the user's attributes, not a credential for an API.
      tokenUse: "access",
    });
    verify = (t) => v.verify(t);
  } else {
    const issuer = requireEnv(ENV.authIssuer, env);
    const v = JwtRsaVerifier.create({
      issuer,
      audience: requireEnv(ENV.authAudience, env),
      jwksUri: `${issuer}/.well-known/jwks.json`,
    });
    const jwks = optionalEnv(ENV.authJwks, env);
    if (!jwks)
      throw new ConfigError(
        `environment variable ${ENV.authJwks} is required without ${ENV.userPoolId}`,
      );
    v.cacheJwks(JSON.parse(jwks) as Jwks);
    verify = (t) => v.verify(t);
  }
  return {
    async verify(token) {
      if (!isCanonicalJwt(token)) throw new Error("token is not in the canonical JWT encoding");
      const payload = await verify(token);
      const sub = payload.sub;
      if (typeof sub !== "string" || !USER_ID_PATTERN.test(sub))
        throw new Error("token subject is not a valid user id");
      return sub;
    },
  };
}
