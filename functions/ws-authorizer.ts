// Lambda authorizer of the WebSocket API's $connect: a user's token comes in the `token` query
// parameter, a share-link viewer's in `share` (exactly one of them). The context tells every route
// of the connection who it is: `userId`, or a viewer of one link of `sharedUserId`.
import middy from "@middy/core";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { verifierFromEnv } from "./adapters/jwt-verifier.ts";
import { authorizeViewer } from "./app/share-links.ts";
import { observe } from "./middleware/observability.ts";
import { now, shareLinksRepo } from "./wiring.ts";

const verifier = verifierFromEnv();
const shareDeps = { links: shareLinksRepo(), now };

type Context = NonNullable<APIGatewayAuthorizerResult["context"]>;

async function principal(
  query: APIGatewayRequestAuthorizerEvent["queryStringParameters"],
): Promise<{ principalId: string; context: Context } | null> {
  const token = query?.token;
  const share = query?.share;
  if (token && !share) {
    const userId = await verifier.verify(token).catch(() => null);
    return userId === null ? null : { principalId: userId, context: { userId } };
  }
  if (share && !token) {
    const viewer = await authorizeViewer(shareDeps, share);
    if (!viewer) return null;
    return {
      principalId: `share:${viewer.linkId}`,
      context: {
        role: "viewer",
        sharedUserId: viewer.sharedUserId,
        shareLinkId: viewer.linkId,
        sharePrecision: viewer.precision,
        shareExpiresAt: viewer.expiresAt,
      },
    };
  }
  return null;
}

const authorize = async (
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> => {
  const who = await principal(event.queryStringParameters);
  // API Gateway answers the handshake with 401 for exactly this error.
  if (!who) throw new Error("Unauthorized");
  return {
    principalId: who.principalId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
    context: who.context,
  };
};

export const handler = middy(authorize).use(observe());
