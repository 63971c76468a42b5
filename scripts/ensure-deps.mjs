// Runs before `npm start` and `npm test`: installs what a fresh clone lacks. Dependencies with
// `npm ci` when node_modules is missing or older than package-lock.json; redis-server (and, for
// `npm test`, chromium, which the browser tests drive) through apt-get where that is possible,
// otherwise a one-line message naming the package.
import { execSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const stamp = join(root, "node_modules", ".nf-lock-hash");
const lockHash = createHash("sha256")
  .update(readFileSync(join(root, "package-lock.json")))
  .digest("hex");

if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== lockHash) {
  console.error("ensure-deps: installing dependencies (npm ci)");
  execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
  writeFileSync(stamp, lockHash);
}

const onPath = (bin) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, bin)));

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const canApt = onPath("apt-get");

/** apt-get install `pkg`; false when this machine cannot (not root, no apt) or it failed. */
function aptInstall(pkg) {
  if (!isRoot || !canApt) return false;
  console.error(`ensure-deps: installing ${pkg} (apt-get install ${pkg})`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
  return (
    spawnSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: "inherit", env }).status === 0
  );
}

if (
  !process.env.REDIS_SERVER_BIN &&
  !onPath("redis-server") &&
  !existsSync("/usr/bin/redis-server") &&
  !aptInstall("redis-server")
) {
  console.error(
    "ensure-deps: redis-server is missing: install the package redis-server (e.g. sudo apt-get install redis-server, brew install redis)",
  );
  process.exit(1);
}

// The browser tests fail (they do not skip) without it, naming the package.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (
  process.env.npm_lifecycle_event === "pretest" &&
  !existsSync(chromium) &&
  !aptInstall("chromium")
)
  console.error(
    `ensure-deps: no Chromium at ${chromium}: install the package chromium for the browser tests`,
  );
