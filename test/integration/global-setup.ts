// Integration tests run against the local stack started here, or against the stack named by
// NF_HTTP_URL and NF_WS_URL (a deployed stack or LocalStack), by endpoint configuration only.
import type { TestProject } from "vitest/node";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    httpUrl: string;
    wsUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const httpUrl = process.env.NF_HTTP_URL;
  const wsUrl = process.env.NF_WS_URL;
  if (httpUrl && wsUrl) {
    project.provide("httpUrl", httpUrl);
    project.provide("wsUrl", wsUrl);
    return;
  }
  // Share links may live 1 s on this stack, so the expiry tests need not wait the protocol's 60 s.
  process.env.SHARE_LINK_MIN_EXPIRES_S ??= "1";
  const stack: LocalStack = await startLocalStack({ httpPort: 0, wsPort: 0, log: () => undefined });
  project.provide("httpUrl", stack.httpUrl);
  project.provide("wsUrl", stack.wsUrl);
  return () => stack.stop();
}
