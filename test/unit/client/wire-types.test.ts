// The SDK declares the wire types itself (it imports nothing from outside client/); these checks keep
// them in step with the server's, at type-check time (`npm test` runs tsc first).
import { describe, expectTypeOf, it } from "vitest";
import type { ErrorCode as ClientErrorCode } from "../../../client/types.ts";
import type { ErrorCode as ServerErrorCode } from "../../../functions/domain/errors.ts";

describe("the SDK's wire types", () => {
  it("know every error code the server sends (forbidden is no longer sent, PROTOCOL.md §3)", () => {
    expectTypeOf<ClientErrorCode>().toEqualTypeOf<Exclude<ServerErrorCode, "forbidden">>();
  });
});
