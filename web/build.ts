// `npm run build:web -- --http-url <HttpApiUrl> --ws-url <WebSocketUrl>`: the live map as static
// files (index.html, app.js, app.css, config.json) for any deployment's endpoints, in web/dist/ by
// default. config.json may be edited after the build; the page reads it at load.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { bundleWeb } from "./bundle.ts";

const USAGE = `usage: npm run build:web -- --http-url <url> --ws-url <url> [options]

  --http-url          the HTTP API's base URL (the stack's output HttpApiUrl)
  --ws-url            the WebSocket API's URL (the stack's output WebSocketUrl)
  --tiles             a tile URL template, e.g. https://tile.example/{z}/{x}/{y}.png (default: none,
                      a plain background with a scale)
  --tile-attribution  the tiles' attribution (HTML)
  --out               the directory to write (default: web/dist)

Open the page with the user's token in the fragment: index.html#token=<Cognito access token>.
The HTTP API must allow the page's origin (CORS): deploy with -c webOrigins=<origin>.`;

function url(flag: string, raw: string | undefined, protocols: readonly string[]): string {
  if (raw === undefined || raw === "") throw new Error(`--${flag} is required\n\n${USAGE}`);
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error(`--${flag} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol))
    throw new Error(`--${flag} must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
  return raw.replace(/\/+$/, "");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "http-url": { type: "string" },
      "ws-url": { type: "string" },
      tiles: { type: "string", default: "" },
      "tile-attribution": { type: "string", default: "" },
      out: { type: "string", default: join(import.meta.dirname, "dist") },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const config = {
    httpUrl: url("http-url", values["http-url"], ["https:", "http:"]),
    wsUrl: url("ws-url", values["ws-url"], ["wss:", "ws:"]),
    devAuth: false,
    tileUrl: values.tiles,
    tileAttribution: values["tile-attribution"],
  };
  const out = resolve(values.out);
  const bundle = await bundleWeb();
  await mkdir(out, { recursive: true });
  await Promise.all([
    writeFile(join(out, "index.html"), bundle.html("./")),
    writeFile(join(out, "app.js"), bundle.js),
    writeFile(join(out, "app.css"), bundle.css),
    writeFile(join(out, "config.json"), `${JSON.stringify(config, null, 2)}\n`),
  ]);
  console.log(`the live map for ${config.httpUrl} and ${config.wsUrl} is in ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
});
