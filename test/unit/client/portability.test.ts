// The SDK runs in browsers and React Native as well as Node: no Node module, global or server code.
// (`npm run typecheck` also compiles client/ alone, without Node's typings: client/tsconfig.json.)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const dir = join(import.meta.dirname, "../../../client");
const sources = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => ({ file: f, text: readFileSync(join(dir, f), "utf8") }));

const FORBIDDEN: [string, RegExp][] = [
  ["a node: import", /from\s+["']node:/],
  ["require()", /\brequire\s*\(/],
  ["process", /\bprocess\./],
  ["Buffer", /\bBuffer\b/],
  ["an import from outside client/", /from\s+["']\.\.\//],
  ["a package import", /from\s+["'][^./]/],
];

describe("client/ portability", () => {
  it("has sources", () => {
    expect(sources.map((s) => s.file)).toContain("index.ts");
  });

  for (const [what, pattern] of FORBIDDEN) {
    it(`uses no ${what}`, () => {
      const offenders = sources.filter((s) => pattern.test(s.text)).map((s) => s.file);
      expect(offenders).toEqual([]);
    });
  }
});
