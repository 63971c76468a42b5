// Publishes location events to the Kinesis stream, partitioned by user so that each user's
// events stay in order.
import { type KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import type { EventPublisher } from "../app/ports.ts";
import { encodeEvent, type LocationEvent } from "../domain/events.ts";

export class KinesisPublisher implements EventPublisher {
  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  async publish(event: LocationEvent): Promise<void> {
    await this.client.send(
      new PutRecordCommand({
        StreamName: this.streamName,
        PartitionKey: event.userId,
        Data: Buffer.from(encodeEvent(event)),
      }),
    );
  }
}
