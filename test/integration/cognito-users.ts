// Test users on a deployed stack: signed up in the Cognito user pool, confirmed by an administrator
// (which runs the post-confirmation trigger that creates the profile), signed in by an administrator
// (ADMIN_USER_PASSWORD_AUTH: the app client allows no plain-password flow to the public) for an
// access token, the only kind both APIs accept.
import { randomBytes } from "node:crypto";
import {
  AdminConfirmSignUpCommand,
  AdminInitiateAuthCommand,
  CognitoIdentityProviderClient,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";

export interface RemotePool {
  region: string;
  userPoolId: string;
  clientId: string;
}

let client: CognitoIdentityProviderClient | undefined;

export async function cognitoUser(
  pool: RemotePool,
  name: string,
): Promise<{ userId: string; token: string }> {
  client ??= new CognitoIdentityProviderClient({ region: pool.region });
  const email = `nf-test-${name}-${randomBytes(6).toString("hex")}@example.com`;
  const password = `Aa1!${randomBytes(12).toString("base64url")}`;
  await client.send(
    new SignUpCommand({
      ClientId: pool.clientId,
      Username: email,
      Password: password,
      UserAttributes: [
        { Name: "email", Value: email },
        { Name: "preferred_username", Value: name },
      ],
    }),
  );
  await client.send(
    new AdminConfirmSignUpCommand({ UserPoolId: pool.userPoolId, Username: email }),
  );
  const auth = await client.send(
    new AdminInitiateAuthCommand({
      UserPoolId: pool.userPoolId,
      ClientId: pool.clientId,
      AuthFlow: "ADMIN_USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    }),
  );
  const token = auth.AuthenticationResult?.AccessToken;
  if (!token) throw new Error("Cognito returned no access token");
  const payload = JSON.parse(
    Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
  ) as { sub: string };
  return { userId: payload.sub, token };
}
