// `npm run test:remote`: the integration suite against a deployed stack. Reads the outputs that
// `cdk deploy --outputs-file cdk-outputs.json` wrote (or NF_OUTPUTS), creates Cognito test users
// (needs AWS credentials allowed cognito-idp:AdminConfirmSignUp and cognito-idp:AdminInitiateAuth),
// and skips nothing but the files that test local-stack-only endpoints (*.local.test.ts).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const file = process.env.NF_OUTPUTS ?? "cdk-outputs.json";
if (!existsSync(file)) {
  console.error(
    `test:remote: ${file} not found; deploy with: npx cdk deploy --outputs-file ${file}`,
  );
  process.exit(2);
}
const all = JSON.parse(readFileSync(file, "utf8"));
const stackName =
  process.env.NF_STACK ?? Object.keys(all).find((k) => k.startsWith("NearbyFriends-"));
const outputs = stackName ? all[stackName] : undefined;
for (const key of ["WebSocketUrl", "HttpApiUrl", "UserPoolId", "UserPoolClientId", "Region"]) {
  if (!outputs?.[key]) {
    console.error(
      `test:remote: output ${key} missing for stack ${stackName ?? "(none)"} in ${file}`,
    );
    process.exit(2);
  }
}
const env = {
  ...process.env,
  NF_HTTP_URL: outputs.HttpApiUrl.replace(/\/$/, ""),
  NF_WS_URL: outputs.WebSocketUrl,
  NF_USER_POOL_ID: outputs.UserPoolId,
  NF_USER_POOL_CLIENT_ID: outputs.UserPoolClientId,
  NF_REGION: outputs.Region,
};
const args = [
  "vitest",
  "run",
  "--project",
  "integration",
  "--exclude",
  "**/*.local.test.ts",
  ...process.argv.slice(2),
];
const result = spawnSync("npx", args, { stdio: "inherit", env });
process.exit(result.status ?? 1);
