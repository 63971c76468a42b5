// Sends frames to WebSocket connections through the API Gateway Management API: a gone connection
// is reported as such, throttling is retried with jittered backoff, anything else is a failure.
import {
  type ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";

export type PostResult = "sent" | "gone" | "failed";

export interface Notifier {
  post(connectionId: string, frame: object): Promise<PostResult>;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

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
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly retry: RetryPolicy = { attempts: 4, baseDelayMs: 50 },
    private readonly log: (msg: string, detail: object) => void = (msg, detail) =>
      console.error(JSON.stringify({ level: "error", msg, ...detail })),
  ) {
    this.sleep = retry.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = retry.random ?? Math.random;
  }

  async post(connectionId: string, frame: object): Promise<PostResult> {
    const data = Buffer.from(JSON.stringify(frame));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }),
        );
        return "sent";
      } catch (err) {
        if (isGone(err)) return "gone";
        if (isThrottle(err) && attempt < this.retry.attempts) {
          // Full jitter: a random delay up to an exponentially growing cap.
          await this.sleep(this.random() * this.retry.baseDelayMs * 2 ** attempt);
          continue;
        }
        this.log("post to connection failed", {
          connectionId,
          attempt,
          error: (err as Error)?.name ?? "unknown",
        });
        return "failed";
      }
    }
  }
}
