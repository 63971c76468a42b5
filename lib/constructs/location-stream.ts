// The location-events stream: the durable, per-user ordered log between the write path and its two
// consumers. Encrypted with a customer key; on-demand unless a shard count is configured. The fan-out
// consumer reads through an enhanced fan-out (dedicated throughput) registration.
import { Duration, Validations } from "aws-cdk-lib";
import { Stream, StreamConsumer, StreamEncryption, StreamMode } from "aws-cdk-lib/aws-kinesis";
import { Key } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export interface LocationStreamProps {
  readonly namePrefix: string;
  readonly stage: string;
  /** Provisioned shard count; undefined for on-demand capacity. */
  readonly shards: number | undefined;
  /** Keep the stream and its key when the stack is deleted (removalPolicyFor). */
  readonly retainData: boolean;
}

export class LocationStream extends Construct {
  readonly key: Key;
  readonly stream: Stream;
  /** The enhanced fan-out registration of the fan-out Lambda. */
  readonly fanoutConsumer: StreamConsumer;

  constructor(scope: Construct, id: string, props: LocationStreamProps) {
    super(scope, id);
    this.key = new Key(this, "Key", {
      alias: `alias/${props.namePrefix}/location-events`,
      description: "Encrypts the location-events stream",
      enableKeyRotation: true,
      // Kept or destroyed with the stream: a kept stream is unreadable without its key, and a kept
      // key without its stream is a cost (and an alias) in the way of the next deployment.
      removalPolicy: removalPolicyFor(props.retainData),
      pendingWindow: Duration.days(7),
    });
    this.stream = new Stream(this, "Stream", {
      streamName: `location-events-${props.stage}`,
      encryption: StreamEncryption.KMS,
      encryptionKey: this.key,
      retentionPeriod: Duration.hours(24),
      removalPolicy: removalPolicyFor(props.retainData),
      ...(props.shards === undefined
        ? { streamMode: StreamMode.ON_DEMAND }
        : { streamMode: StreamMode.PROVISIONED, shardCount: props.shards }),
    });
    Validations.of(this.stream).acknowledge({
      id: "AwsSolutions-KDS3",
      reason:
        "Positions are personal data: a customer key lets the key policy, not only IAM, decide who can read the stream, and its use is audited in CloudTrail.",
    });
    this.fanoutConsumer = new StreamConsumer(this, "FanoutConsumer", {
      streamConsumerName: `${props.namePrefix}-fanout`,
      stream: this.stream,
    });
  }
}
