// The two ways a share link's expiry is timed (app/ports.ts ShareExpiryScheduler). In AWS, the
// share-links table's stream starts a Step Functions workflow for each new link (an EventBridge
// pipe; lib/constructs/share-expiry.ts), which waits until `expiresAt` and invokes the
// share-expiry function: storing the link is all it takes. On the local stack (no table streams),
// a timer in the functions' process runs the same use case at `expiresAt`.
import type { Log, ShareExpiryScheduler } from "../app/ports.ts";
import type { ShareLink } from "../domain/share-links.ts";

type Expiring = Pick<ShareLink, "userId" | "linkId" | "expiresAt">;

/** AWS: the table's stream schedules every link it receives; nothing to do here. */
export class TableStreamExpiry implements ShareExpiryScheduler {
  async schedule(_link: Expiring): Promise<void> {}
}

/** Local: a timer per link in this process, which runs `end` at the link's expiry. */
export class TimerExpiry implements ShareExpiryScheduler {
  constructor(
    private readonly end: (link: Expiring) => Promise<unknown>,
    private readonly log: Log,
    private readonly now: () => number = Date.now,
  ) {}

  async schedule(link: Expiring): Promise<void> {
    const timer = setTimeout(
      () => {
        this.end(link).catch((err: unknown) =>
          this.log.error("share link expiry failed", { linkId: link.linkId, error: String(err) }),
        );
      },
      Math.max(0, link.expiresAt - this.now()),
    );
    timer.unref();
  }
}
