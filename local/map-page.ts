// The local stack's live map: GET /map (the page of web/, bundled by esbuild on the first request
// and kept), its script, stylesheet and config.json (this stack's endpoints, /dev/token sign-in),
// and GET /dev/position, where the page learns where the server has a user (local only).
import type { IncomingMessage, ServerResponse } from "node:http";
import { USER_ID_PATTERN } from "../functions/domain/frames.ts";
import { bundleWeb, type WebBundle } from "../web/bundle.ts";

/** Serves the request and resolves true when it is one of these pages; false leaves it to the API. */
export type LocalPages = (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<boolean>;

export interface MapPageOptions {
  wsPort: number;
  /** The user's stored position (Redis), or null when they have none (offline). */
  position(userId: string): Promise<{ lat: number; lon: number; at: number } | null>;
  log(msg: string, detail?: object): void;
}

/** A `host[:port]` a browser may send; anything else is not echoed into the config. */
const HOST_HEADER = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

const TYPES = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
};

function reply(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-cache" }).end(body);
}

export function mapPages(options: MapPageOptions): LocalPages {
  let bundling: Promise<WebBundle> | null = null;
  const bundle = (): Promise<WebBundle> => {
    bundling ??= bundleWeb().catch((err: unknown) => {
      bundling = null; // a fixed source builds on the next request
      throw err;
    });
    return bundling;
  };

  const config = (req: IncomingMessage, port: string) => {
    const given = req.headers.host ?? "";
    const host = HOST_HEADER.test(given) ? given : `127.0.0.1:${port}`;
    const hostname = host.replace(/:\d+$/, "");
    return {
      // The page's own origin: the browser then calls the HTTP API without CORS.
      httpUrl: `http://${host}`,
      wsUrl: `ws://${hostname}:${options.wsPort}`,
      devAuth: true,
      tileUrl: process.env.MAP_TILE_URL ?? "",
      tileAttribution: process.env.MAP_TILE_ATTRIBUTION ?? "",
    };
  };

  return async (req, url, res) => {
    if (req.method !== "GET") return false;
    const path = url.pathname;
    if (path === "/dev/position") {
      const userId = url.searchParams.get("userId") ?? "";
      if (!USER_ID_PATTERN.test(userId)) {
        reply(res, 400, TYPES.json, errorBody("invalid_request", "userId must be a user id"));
        return true;
      }
      const p = await options.position(userId);
      if (p === null)
        reply(res, 404, TYPES.json, errorBody("not_found", `${userId} has no position`));
      else
        reply(res, 200, TYPES.json, JSON.stringify({ userId, lat: p.lat, lon: p.lon, at: p.at }));
      return true;
    }
    if (path !== "/map" && !path.startsWith("/map/")) return false;
    if (path === "/map/config.json") {
      reply(res, 200, TYPES.json, JSON.stringify(config(req, url.port)));
      return true;
    }
    let built: WebBundle;
    try {
      built = await bundle();
    } catch (err) {
      options.log("the map page did not build", { error: String(err) });
      reply(
        res,
        500,
        "text/plain; charset=utf-8",
        "the map page did not build (see the stack's log)",
      );
      return true;
    }
    if (path === "/map" || path === "/map/") reply(res, 200, TYPES.html, built.html("/map/"));
    else if (path === "/map/app.js") reply(res, 200, TYPES.js, built.js);
    else if (path === "/map/app.css") reply(res, 200, TYPES.css, built.css);
    else reply(res, 404, TYPES.json, errorBody("not_found", `no page ${path}`));
    return true;
  };
}

const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });
