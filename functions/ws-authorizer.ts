// Lambda authorizer of the WebSocket API's $connect: the token comes in the `token` query parameter.
import middy from "@middy/core";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { verifierFromEnv } from "./adapters/jwt-verifier.ts";
import { observe } from "./middleware/observability.ts";

const verifier = verifierFromEnv();

const authorize = async (
  event: APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewayAuthorizerResult> => {
  const token = event.queryStringParameters?.token;
  let userId: string;
  try {
    if (!token) throw new Error("no token");
    userId = await verifier.verify(token);
  } catch {
    // API Gateway answers the handshake with 401 for exactly this error.
    throw new Error("Unauthorized");
  }
  return {
    principalId: userId,
    policyDocument: {
      Version: "2012-10-17",
      Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: event.methodArn }],
    },
    context: { userId },
  };
};

export const handler = middy(authorize).use(observe());
