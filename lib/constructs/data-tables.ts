// The DynamoDB tables: user profiles, friendships (one item per direction), blocks (both directions
// on each user's item of the pair), location history (TTL `expiresAt`) and live share links (TTL
// `expiresAtS`). On-demand, encrypted, point-in-time recovery (on the history table only when
// asked: its items expire anyway); data is retained outside dev.
import { Validations } from "aws-cdk-lib";
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { SHARE_LINKS_TOKEN_INDEX } from "../../functions/adapters/share-links-repo.ts";
import { removalPolicyFor } from "../retention.ts";

export interface DataTablesProps {
  readonly namePrefix: string;
  readonly retainData: boolean;
  /**
   * Point-in-time recovery of the history table, billed per GB stored: a table of positions that
   * expire after the retention, rebuilt by nothing, is rarely worth restoring to the second.
   * @default false
   */
  readonly historyPitr?: boolean;
}

export class DataTables extends Construct {
  readonly users: Table;
  readonly friendships: Table;
  readonly history: Table;
  readonly shareLinks: Table;
  readonly blocks: Table;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const common = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retainData,
      removalPolicy: removalPolicyFor(props.retainData),
    };
    this.users = new Table(this, "Users", {
      ...common,
      tableName: `${props.namePrefix}-users`,
      partitionKey: { name: "userId", type: AttributeType.STRING },
    });
    this.friendships = new Table(this, "Friendships", {
      ...common,
      tableName: `${props.namePrefix}-friendships`,
      partitionKey: { name: "userId", type: AttributeType.STRING },
      sortKey: { name: "friendId", type: AttributeType.STRING },
    });
    this.blocks = new Table(this, "Blocks", {
      ...common,
      tableName: `${props.namePrefix}-blocks`,
      partitionKey: { name: "userId", type: AttributeType.STRING },
      sortKey: { name: "otherId", type: AttributeType.STRING },
    });
    this.history = new Table(this, "LocationHistory", {
      ...common,
      tableName: `${props.namePrefix}-location-history`,
      partitionKey: { name: "userId", type: AttributeType.STRING },
      // "at#seq": the record's own coordinates, so a retried batch overwrites instead of duplicating.
      sortKey: { name: "sk", type: AttributeType.STRING },
      timeToLiveAttribute: "expiresAt",
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.historyPitr ?? false },
    });
    // Live share links (functions/adapters/share-links-repo.ts): a user's link slots, the index of
    // token hashes the handshake reads, TTL on the expiry, and a stream that starts each link's
    // expiry workflow (share-expiry.ts).
    this.shareLinks = new Table(this, "ShareLinks", {
      ...common,
      tableName: `${props.namePrefix}-share-links`,
      partitionKey: { name: "userId", type: AttributeType.STRING },
      sortKey: { name: "slot", type: AttributeType.NUMBER },
      timeToLiveAttribute: "expiresAtS",
      stream: StreamViewType.NEW_IMAGE,
    });
    this.shareLinks.addGlobalSecondaryIndex({
      indexName: SHARE_LINKS_TOKEN_INDEX,
      partitionKey: { name: "tokenHash", type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    if (!props.historyPitr) {
      Validations.of(this.history).acknowledge({
        id: "AwsSolutions-DDB3",
        reason:
          "History items expire after the retention (TTL) and are only a log of positions; continuous backups of them are a per-GB cost the stage opts into (context historyPitr=true).",
      });
    }
  }
}
