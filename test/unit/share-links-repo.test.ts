// The share-links table adapter with the DynamoDB client mocked: the cap as a conditional write on
// a free slot (retried when a concurrent creation took it), and a token found on the eventually
// consistent index confirmed by a consistent read of its slot.
import "aws-sdk-client-mock-vitest/extend";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { ShareLinksRepo } from "../../functions/adapters/share-links-repo.ts";
import type { ShareLink } from "../../functions/domain/share-links.ts";

const NOW = 1_763_770_000_000;
const dynamo = mockClient(DynamoDBDocumentClient);
const repo = () =>
  new ShareLinksRepo(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: "us-east-1" })),
    "links",
  );

const link: ShareLink = {
  userId: "alice",
  linkId: "L".repeat(22),
  tokenHash: "h1",
  precision: "precise",
  createdAt: NOW,
  expiresAt: NOW + 60_000,
};
const item = (slot: number, expiresAt = NOW + 1000) => ({
  ...link,
  linkId: `link${slot}`,
  tokenHash: `hash${slot}`,
  slot,
  expiresAt,
});
const conditionFailed = Object.assign(new Error("conditional"), {
  name: "ConditionalCheckFailedException",
});

beforeEach(() => dynamo.reset());

describe("ShareLinksRepo.create", () => {
  it("writes the first free slot (an expired link's counts as free), conditioned on it being free", async () => {
    dynamo.on(QueryCommand).resolves({ Items: [item(0), item(1, NOW), item(2)] });
    dynamo.on(PutCommand).resolves({});
    expect(await repo().create(link, 10, NOW)).toBe(true);
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, { ConsistentRead: true });
    expect(dynamo).toHaveReceivedCommandWith(PutCommand, {
      TableName: "links",
      Item: {
        ...link,
        slot: 1,
        expiresAtS: Math.ceil(link.expiresAt / 1000),
        expiresAtIso: new Date(link.expiresAt).toISOString(),
      },
      ConditionExpression: "attribute_not_exists(userId) OR expiresAt <= :now",
      ExpressionAttributeValues: { ":now": NOW },
    });
  });

  it("refuses at the cap without writing", async () => {
    dynamo.on(QueryCommand).resolves({ Items: Array.from({ length: 10 }, (_, i) => item(i)) });
    expect(await repo().create(link, 10, NOW)).toBe(false);
    expect(dynamo).not.toHaveReceivedCommand(PutCommand);
  });

  it("takes another slot when a concurrent creation won the one it chose", async () => {
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [] })
      .resolves({ Items: [item(0)] });
    dynamo.on(PutCommand).rejectsOnce(conditionFailed).resolves({});
    expect(await repo().create(link, 10, NOW)).toBe(true);
    const slots = dynamo
      .commandCalls(PutCommand)
      .map((c) => (c.args[0].input.Item as { slot: number }).slot);
    expect(slots).toEqual([0, 1]);
  });
});

describe("ShareLinksRepo.byTokenHash", () => {
  it("confirms the index's answer on the slot itself: a reused slot or a deleted link is null", async () => {
    dynamo.on(QueryCommand).resolves({ Items: [{ userId: "alice", slot: 3, tokenHash: "h1" }] });
    dynamo
      .on(GetCommand)
      .resolvesOnce({ Item: item(3) })
      .resolvesOnce({});
    expect(await repo().byTokenHash("h1")).toBeNull();
    expect(await repo().byTokenHash("h1")).toBeNull();
    expect(dynamo).toHaveReceivedCommandWith(QueryCommand, { IndexName: "byTokenHash" });
    expect(dynamo).toHaveReceivedCommandWith(GetCommand, {
      Key: { userId: "alice", slot: 3 },
      ConsistentRead: true,
    });
    dynamo.on(GetCommand).resolves({ Item: { ...item(3), tokenHash: "h1" } });
    expect(await repo().byTokenHash("h1")).toMatchObject({ userId: "alice", tokenHash: "h1" });
  });
});
