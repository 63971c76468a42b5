// A Lambda invocation context for handlers run in-process, so that middy and Powertools see what
// Lambda gives them (request id, function name; the logger's cold-start flag works the same).
// No getRemainingTimeInMillis: the local stack sets no function timeout.
import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "local",
  } as Context;
}

type Module = { handler: (event: unknown, context: Context) => Promise<unknown> };

/**
 * An entry's handler (functions/<entry>.ts), invoked as Lambda invokes it: with an invocation
 * context of its own. Import it after the environment is set: it reads it at import.
 */
export async function loadHandler<H>(entry: string): Promise<H> {
  const mod = (await import(`../functions/${entry}.ts`)) as Module;
  if (typeof mod.handler !== "function")
    throw new Error(`functions/${entry}.ts exports no handler`);
  const handler = mod.handler;
  return ((event: unknown) => handler(event, lambdaContext(`local-${entry}`))) as H;
}
