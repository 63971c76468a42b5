// `npm run cost`: the monthly bill of a stage for a workload, line by line, from the settings the
// stack is built from (cdk.json's context, `-c key=value`, `--profile`, `--stage`) and the dated
// list prices of lib/prices.ts; with the same stage idle (no users) beside it.
import { readFileSync } from "node:fs";
import { StageConfigError, stageConfigFromContext } from "../lib/config.ts";
import {
  count,
  deploymentOf,
  type Estimate,
  estimateMonthly,
  type LineItem,
  type Workload,
} from "../lib/cost-model.ts";
import { PRICES_AS_OF, PRICES_REGION } from "../lib/prices.ts";
import { parseCostOptions, UsageError } from "./cost-options.ts";

const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL("../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  }
).context;

/** 3.5 B, 876 M, 12.3 k, 4.2: three significant figures at most. */
export function quantity(n: number): string {
  const scales: [number, string][] = [
    [1e9, " B"],
    [1e6, " M"],
    [1e3, " k"],
  ];
  for (const [scale, suffix] of scales) {
    if (n >= scale) return `${(n / scale).toPrecision(3)}${suffix}`;
  }
  return n === 0 ? "0" : n < 0.01 ? n.toExponential(1) : String(Number(n.toPrecision(3)));
}

const usd = (n: number): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const key = (l: LineItem): string => `${l.service}\u0000${l.item}`;

export function renderEstimate(heading: readonly string[], busy: Estimate, idle: Estimate): string {
  const idleByKey = new Map(idle.lines.map((l) => [key(l), l.usd]));
  const rows = busy.lines.map((l) => [
    l.service,
    l.item,
    `${quantity(l.quantity)} ${l.unit}`,
    usd(l.usd),
    usd(idleByKey.get(key(l)) ?? 0),
  ]);
  const busyKeys = new Set(busy.lines.map(key));
  for (const l of idle.lines) {
    if (!busyKeys.has(key(l))) rows.push([l.service, l.item, "", usd(0), usd(l.usd)]);
  }
  const header = ["service", "item", "quantity", "$/month", "idle $/month"];
  const total = ["total", "", "", usd(busy.total), usd(idle.total)];
  const all = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const format = (r: string[]) =>
    r
      .map((cell, i) => (i >= 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [
    ...heading,
    "",
    format(header),
    rule,
    ...rows.map(format),
    rule,
    format(total),
    ...busy.notes.map((n) => `note: ${n}`),
  ].join("\n");
}

function describeWorkload(w: Workload): string {
  return `${w.users.toLocaleString("en-US")} users connected ${w.hoursPerDay} h/day, a position every ${w.intervalS} s, watched closely ${Math.round(w.watchedShare * 100)} % of the time (else the slow cadence) (${Math.round(w.publishedShare * 100)} % published), each pushed to ${w.nearby} nearby friends' connections; ${w.httpRequestsPerUserDay} HTTP requests per user per day`;
}

function main(): void {
  const options = parseCostOptions(process.argv.slice(2), CDK_CONTEXT);
  const config = stageConfigFromContext({ tryGetContext: (k: string) => options.context[k] });
  const deployment = deploymentOf(config);
  const busy = estimateMonthly(deployment, options.workload);
  const idle = estimateMonthly(deployment, { ...options.workload, users: 0 });
  if (options.json) {
    console.log(JSON.stringify({ config, workload: options.workload, deployment, busy, idle }));
    return;
  }
  const stream =
    config.shards === undefined ? "on-demand" : count(config.shards, "provisioned shard");
  console.log(
    renderEstimate(
      [
        `Nearby Friends, stage ${config.stage} (profile ${config.profile}): monthly estimate at ${PRICES_REGION} list prices as of ${PRICES_AS_OF} (lib/prices.ts), free tiers not deducted`,
        `settings: ${count(config.natGateways, "NAT gateway")}, Lambda logs ${config.logFormat}${config.logFormat === "JSON" ? ` (system ${config.systemLogLevel})` : ""}, ${config.accessLogs} access logs${config.webSocketAccessLogs ? "" : " (HTTP only: WebSocket access logs need apiGatewayAccountRole)"}, route metrics ${config.detailedMetrics ? "on" : "off"}, stream ${stream}, cache ${deployment.cacheNodes} × ${config.cacheNodeType}, history PITR ${config.historyPitr ? "on" : "off"}`,
        `workload: ${describeWorkload(options.workload)}`,
      ],
      busy,
      idle,
    ),
  );
}

try {
  main();
} catch (err) {
  if (err instanceof UsageError || err instanceof StageConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
