// Sends frames to WebSocket connections through the API Gateway Management API: a gone connection
// is reported as such, throttling is retried with jittered backoff, anything else is a failure. And
// closes connections (DeleteConnection) when a share link ends.
import {
  type ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import type { ConnectionCloser, Log, Notifier, PostResult } from "../app/ports.ts";
import { type RetryPolicy, withRetry } from "./retry.ts";

const isThrottle = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === "ThrottlingException" ||
    e?.name === "TooManyRequestsException" ||
    e?.name === "LimitExceededException" ||
    e?.$metadata?.httpStatusCode === 429
  );
};

const isGone = (err: unknown): boolean =>
  err instanceof GoneException || (err as { name?: string })?.name === "GoneException";

export class ManagementApiNotifier implements Notifier {
  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly log: Log,
    private readonly retry: RetryPolicy = { attempts: 4, baseDelayMs: 50 },
  ) {}

  async post(connectionId: string, frame: object): Promise<PostResult> {
    const data = Buffer.from(JSON.stringify(frame));
    return withRetry<PostResult>(this.retry, async (attempt) => {
      try {
        await this.client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }),
        );
        return { retry: false, value: "sent" };
      } catch (err) {
        if (isGone(err)) return { retry: false, value: "gone" };
        const retry = isThrottle(err) && attempt < this.retry.attempts;
        if (!retry) {
          this.log.error("post to connection failed", {
            connectionId,
            attempt,
            error: (err as Error)?.name ?? "unknown",
          });
        }
        return { retry, value: "failed" };
      }
    });
  }
}

/** Closes connections from the server side; one that is gone already needs nothing more. */
export class ManagementApiCloser implements ConnectionCloser {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async close(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
}
