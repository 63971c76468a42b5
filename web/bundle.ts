// Builds the live map page (web/app/) with esbuild: one script (the page, the client SDK and
// Leaflet) and one stylesheet (Leaflet's included, its images inlined), in memory. The local stack
// serves them at /map; `npm run build:web` writes them, with a config.json, as static files.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export interface WebBundle {
  js: string;
  css: string;
  /** The page, its script and stylesheet referenced from `base` (ends with "/"). */
  html(base: string): string;
}

const APP_DIR = fileURLToPath(new URL("./app/", import.meta.url));

export async function bundleWeb(): Promise<WebBundle> {
  // esbuild is a development dependency: loaded when a page is built, not with the stack.
  const { build } = await import("esbuild");
  const [result, template] = await Promise.all([
    build({
      entryPoints: { app: `${APP_DIR}main.ts` },
      bundle: true,
      write: false,
      outdir: "/",
      format: "iife",
      platform: "browser",
      target: ["es2022"],
      minify: true,
      legalComments: "none",
      loader: { ".png": "dataurl", ".svg": "dataurl" },
      logLevel: "silent",
    }),
    readFile(`${APP_DIR}index.html`, "utf8"),
  ]);
  const output = (ext: string): string => {
    const file = result.outputFiles.find((f) => f.path.endsWith(ext));
    if (file === undefined) throw new Error(`esbuild wrote no ${ext} file`);
    return file.text;
  };
  const js = output(".js");
  const css = output(".css");
  return { js, css, html: (base) => template.replaceAll("{{base}}", base) };
}
