// The HTTP API (docs/PROTOCOL.md §3): profile, friends and friend requests, settings, history.
// Errors are NearbyFriendsError with the reply's status; any 401 gets a fresh token and one retry
// (§1), and 503 and 429 are retried with backoff (every request is safe to repeat, §3).
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
import { NearbyFriendsError } from "./errors.ts";
import { defaultFetch, systemClock } from "./platform.ts";
import type {
  BlockEntry,
  Clock,
  CreatedShareLink,
  ErrorCode,
  FetchLike,
  FriendEntry,
  FriendRequestResult,
  FriendRequests,
  HistoryPage,
  HistoryQuery,
  Precision,
  Profile,
  Settings,
  SettingsUpdate,
  ShareLinkEntry,
  TokenSource,
} from "./types.ts";

export interface HttpClientOptions {
  /** The HTTP API's base URL: `https://…/` or `http://127.0.0.1:4000`. */
  url: string;
  /** The user's JWT, or a function returning it (called per request; `forceRefresh` after a 401). */
  token: TokenSource;
  /** @default globalThis.fetch */
  fetch?: FetchLike;
  /** Timers for the retry delays. @default Date.now and the platform's timers */
  clock?: Clock;
  /** @default Math.random */
  random?: () => number;
  /** Retry delays after 503 and 429. @default DEFAULT_BACKOFF */
  backoff?: Partial<BackoffOptions>;
  /** How often a request answered 503 or 429 is sent again before it fails. @default 2 */
  maxRetries?: number;
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "unauthorized",
  404: "not_found",
  409: "conflict",
  413: "payload_too_large",
  429: "rate_limited",
  503: "unavailable",
};

export class HttpClient {
  private readonly base: string;
  private readonly fetch: FetchLike;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly maxRetries: number;

  constructor(private readonly options: HttpClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.fetch = options.fetch ?? defaultFetch();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.maxRetries = options.maxRetries ?? 2;
  }

  // ---- profile

  /** `GET /me`. */
  getProfile(): Promise<Profile> {
    return this.call("GET", "/me");
  }

  /** `PUT /me`: set the display name (1–64 characters after trimming). */
  updateProfile(profile: { displayName: string }): Promise<Profile> {
    return this.call("PUT", "/me", { displayName: profile.displayName });
  }

  // ---- friends

  /** `GET /friends`, ordered by userId. */
  async listFriends(): Promise<FriendEntry[]> {
    return (await this.call<{ friends: FriendEntry[] }>("GET", "/friends")).friends;
  }

  /** `DELETE /friends/{userId}`: end a friendship (404 `not_found` when not friends). */
  async removeFriend(userId: string): Promise<void> {
    await this.call("DELETE", `/friends/${encodeURIComponent(userId)}`);
  }

  /**
   * `POST /friends/requests`: ask `userId`; `{status:"friends"}` when they had already asked.
   * Fails with `not_found` (no such user), `conflict` (already friends), `invalid_request` (oneself).
   */
  sendFriendRequest(userId: string): Promise<FriendRequestResult> {
    return this.call("POST", "/friends/requests", { userId });
  }

  /** `GET /friends/requests`: incoming and outgoing requests. */
  listFriendRequests(): Promise<FriendRequests> {
    return this.call("GET", "/friends/requests");
  }

  /** `POST /friends/requests/{userId}/accept` (404 `not_found` without an incoming request). */
  acceptFriendRequest(userId: string): Promise<{ status: "friends" }> {
    return this.call("POST", `/friends/requests/${encodeURIComponent(userId)}/accept`);
  }

  /** `DELETE /friends/requests/{userId}`: decline an incoming or cancel an outgoing request. */
  async deleteFriendRequest(userId: string): Promise<void> {
    await this.call("DELETE", `/friends/requests/${encodeURIComponent(userId)}`);
  }

  // ---- settings

  /** `GET /me/settings`. */
  getSettings(): Promise<Settings> {
    return this.call("GET", "/me/settings");
  }

  /** `PUT /me/settings`: fields left out keep their values; `friends` replaces the whole map. */
  updateSettings(update: SettingsUpdate): Promise<Settings> {
    return this.call("PUT", "/me/settings", update);
  }

  // ---- blocks

  /**
   * `POST /blocks`: block `userId` (ends a friendship and pending requests; idempotent). Fails
   * with `not_found` (no such user), `invalid_request` (oneself), `conflict` (over the cap).
   */
  async block(userId: string): Promise<void> {
    await this.call("POST", "/blocks", { userId });
  }

  /** `DELETE /blocks/{userId}`: lift a block (idempotent). */
  async unblock(userId: string): Promise<void> {
    await this.call("DELETE", `/blocks/${encodeURIComponent(userId)}`);
  }

  /** `GET /blocks`: the users the caller blocked. */
  async listBlocks(): Promise<BlockEntry[]> {
    return (await this.call<{ blocks: BlockEntry[] }>("GET", "/blocks")).blocks;
  }

  // ---- share links

  /**
   * `POST /share-links`: a live link to the caller's position for people without an account,
   * for `expiresInS` (60 s to 7 days). The token is in the result only. `conflict` at 10 active.
   */
  createShareLink(link: { expiresInS: number; precision: Precision }): Promise<CreatedShareLink> {
    return this.call("POST", "/share-links", link);
  }

  /** `GET /share-links`: the active links, soonest to expire first. */
  async listShareLinks(): Promise<ShareLinkEntry[]> {
    return (await this.call<{ links: ShareLinkEntry[] }>("GET", "/share-links")).links;
  }

  /** `DELETE /share-links/{id}`: revoke a link; its viewers are told and closed (`not_found` when not active). */
  async revokeShareLink(id: string): Promise<void> {
    await this.call("DELETE", `/share-links/${encodeURIComponent(id)}`);
  }

  // ---- history

  /** `GET /me/history`: one page of published positions, newest first. */
  getHistory(query: HistoryQuery = {}): Promise<HistoryPage> {
    const params: string[] = [];
    for (const key of ["from", "to", "limit", "cursor"] as const) {
      const value = query[key];
      if (value !== undefined) params.push(`${key}=${encodeURIComponent(String(value))}`);
    }
    return this.call("GET", `/me/history${params.length ? `?${params.join("&")}` : ""}`);
  }

  /** `DELETE /me/history`: erase the current position and the stored history. */
  async deleteHistory(): Promise<void> {
    await this.call("DELETE", "/me/history");
  }

  // ---- transport

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let retries = 0;
    let refreshed = false;
    let forceRefresh = false;
    for (;;) {
      const token = await this.token(forceRefresh);
      forceRefresh = false;
      const res = await this.fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) {
        return (text ? JSON.parse(text) : undefined) as T;
      }
      if (res.status === 401 && !refreshed && typeof this.options.token === "function") {
        // §1: any 401 means "get a new token".
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if ((res.status === 503 || res.status === 429) && retries < this.maxRetries) {
        await this.sleep(backoffDelay(retries++, this.backoff, this.random));
        continue;
      }
      throw errorOf(res.status, text);
    }
  }

  private async token(forceRefresh: boolean): Promise<string> {
    const source = this.options.token;
    return typeof source === "string" ? source : source({ forceRefresh });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}

/** The error of a non-2xx reply: the envelope's code when our handlers answered, else by status. */
function errorOf(status: number, text: string): NearbyFriendsError {
  let code: ErrorCode = STATUS_CODES[status] ?? (status >= 500 ? "internal" : "invalid_request");
  let message = `HTTP ${status}`;
  try {
    const body = JSON.parse(text) as {
      error?: { code?: unknown; message?: unknown };
      message?: unknown;
    };
    if (typeof body.error?.code === "string") code = body.error.code as ErrorCode;
    if (typeof body.error?.message === "string") message = body.error.message;
    else if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON: API Gateway or a proxy
  }
  return new NearbyFriendsError(code, message, { status });
}
