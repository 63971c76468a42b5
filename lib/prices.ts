// The AWS list prices the cost estimate (lib/cost-model.ts) multiplies by: US East (N. Virginia),
// on-demand, in USD, each with the page it comes from. One dated table: when a price changes,
// change it here with `PRICES_AS_OF`.
//
// These figures were written down from knowledge of the public price pages, not read from them
// (the machine that wrote them had no access to the web): check a line against its `source` before
// quoting the estimate. Free tiers are not deducted anywhere (Lambda's monthly million requests,
// Cognito's 10 000 MAU, CloudWatch's 10 alarms, ...): they are per account, shared by every stage in
// it.

export const PRICES_AS_OF = "2025-06-01";
export const PRICES_REGION = "us-east-1";

/** Past `upTo` units (cumulative, per month), the next tier's rate applies. */
export interface PriceTier {
  readonly upTo: number;
  readonly usd: number;
}

export interface Price {
  /** The unit counted, singular ("message", "GB-month"). GB means GiB (2^30 bytes), as AWS bills. */
  readonly unit: string;
  /** `usd` is the price of this many units (1 000 000 for "per million"). */
  readonly per: number;
  /** The rate by volume tier; one tier for a flat price. */
  readonly tiers: readonly PriceTier[];
  readonly source: string;
}

const API_GATEWAY = "https://aws.amazon.com/api-gateway/pricing/";
const LAMBDA = "https://aws.amazon.com/lambda/pricing/";
const KINESIS = "https://aws.amazon.com/kinesis/data-streams/pricing/";
const DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
const ELASTICACHE = "https://aws.amazon.com/elasticache/pricing/";
const VPC = "https://aws.amazon.com/vpc/pricing/";
const PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/";
const DATA_TRANSFER = "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer";
const CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/";
const XRAY = "https://aws.amazon.com/xray/pricing/";
const KMS = "https://aws.amazon.com/kms/pricing/";
const SECRETS_MANAGER = "https://aws.amazon.com/secrets-manager/pricing/";
const COGNITO = "https://aws.amazon.com/cognito/pricing/";

const flat = (usd: number, per: number, unit: string, source: string): Price => ({
  unit,
  per,
  tiers: [{ upTo: Number.POSITIVE_INFINITY, usd }],
  source,
});

const MILLION = 1_000_000;

export const PRICES = {
  /** Sent and received, metered in 32 KB increments. */
  wsMessages: {
    unit: "message",
    per: MILLION,
    tiers: [
      { upTo: 1_000_000_000, usd: 1.0 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.8 },
    ],
    source: API_GATEWAY,
  },
  wsConnectionMinutes: flat(0.25, MILLION, "connection-minute", API_GATEWAY),
  httpApiRequests: {
    unit: "request",
    per: MILLION,
    tiers: [
      { upTo: 300_000_000, usd: 1.0 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.9 },
    ],
    source: API_GATEWAY,
  },

  lambdaRequests: flat(0.2, MILLION, "request", LAMBDA),
  /** Arm (Graviton), first tier (7.5 billion GB-seconds a month). */
  lambdaArmGbSeconds: flat(0.0000133334, 1, "GB-second", LAMBDA),

  kinesisOnDemandStreamHours: flat(0.04, 1, "stream-hour", KINESIS),
  /** Records rounded up to 1 KB each. */
  kinesisOnDemandIngest: flat(0.08, 1, "GB", KINESIS),
  kinesisOnDemandRetrieval: flat(0.04, 1, "GB", KINESIS),
  kinesisOnDemandEfoRetrieval: flat(0.05, 1, "GB", KINESIS),
  kinesisShardHours: flat(0.015, 1, "shard-hour", KINESIS),
  /** 25 KB chunks of each record. */
  kinesisPutPayloadUnits: flat(0.014, MILLION, "PUT payload unit", KINESIS),
  kinesisEfoConsumerShardHours: flat(0.015, 1, "consumer-shard-hour", KINESIS),
  kinesisEfoRetrieval: flat(0.013, 1, "GB", KINESIS),

  dynamoWriteRequestUnits: flat(0.625, MILLION, "write request unit", DYNAMODB),
  dynamoReadRequestUnits: flat(0.125, MILLION, "read request unit", DYNAMODB),
  dynamoStorage: flat(0.25, 1, "GB-month", DYNAMODB),
  dynamoPitr: flat(0.2, 1, "GB-month", DYNAMODB),

  natGatewayHours: flat(0.045, 1, "NAT gateway-hour", VPC),
  natGatewayData: flat(0.045, 1, "GB", VPC),
  /** Per endpoint, per AZ. */
  interfaceEndpointHours: flat(0.01, 1, "endpoint-AZ-hour", PRIVATELINK),
  interfaceEndpointData: flat(0.01, 1, "GB", PRIVATELINK),
  /** Charged on each side of the crossing: a GB crossing once costs twice this. */
  interAzTransfer: flat(0.01, 1, "GB", DATA_TRANSFER),
  internetTransferOut: {
    unit: "GB",
    per: 1,
    tiers: [
      { upTo: 10 * 1024, usd: 0.09 },
      { upTo: 50 * 1024, usd: 0.085 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.07 },
    ],
    source: DATA_TRANSFER,
  },

  /** Standard class; Lambda's and API Gateway's logs are billed at this rate below 10 TB a month. */
  logsIngestion: flat(0.5, 1, "GB", CLOUDWATCH),
  /** Compressed bytes. */
  logsStorage: flat(0.03, 1, "GB-month", CLOUDWATCH),
  customMetrics: flat(0.3, 1, "metric-month", CLOUDWATCH),
  standardAlarms: flat(0.1, 1, "alarm-month", CLOUDWATCH),
  dashboards: flat(3.0, 1, "dashboard-month", CLOUDWATCH),

  xrayTracesRecorded: flat(5.0, MILLION, "trace", XRAY),

  kmsKeys: flat(1.0, 1, "key-month", KMS),
  kmsRequests: flat(0.03, 10_000, "request", KMS),
  secrets: flat(0.4, 1, "secret-month", SECRETS_MANAGER),
  secretsApiCalls: flat(0.05, 10_000, "API call", SECRETS_MANAGER),

  /** Essentials feature plan, per monthly active user (the first 10 000 free are not deducted). */
  cognitoEssentialsMau: flat(0.015, 1, "MAU", COGNITO),
} as const satisfies Record<string, Price>;

/**
 * ElastiCache for Valkey, node-based, per node-hour (Valkey nodes are listed 20 % below Redis OSS
 * ones). A node type missing here stops the estimate rather than being guessed.
 */
export const CACHE_NODE_HOURLY: Readonly<Record<string, number>> = {
  "cache.t4g.micro": 0.0128,
  "cache.t4g.small": 0.0256,
  "cache.t4g.medium": 0.052,
  "cache.m7g.large": 0.1264,
  "cache.m7g.xlarge": 0.2528,
  "cache.r7g.large": 0.1752,
  "cache.r7g.xlarge": 0.3504,
};
export const CACHE_NODE_SOURCE = ELASTICACHE;

/** The month's charge for `quantity` units at a (possibly tiered) price. */
export function costOf(price: Price, quantity: number): number {
  let usd = 0;
  let from = 0;
  for (const tier of price.tiers) {
    if (quantity <= from) break;
    const inTier = Math.min(quantity, tier.upTo) - from;
    usd += (inTier / price.per) * tier.usd;
    from = tier.upTo;
  }
  return usd;
}
