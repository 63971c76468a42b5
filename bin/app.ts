// CDK entry point: one Nearby Friends stack per stage (`-c stage=<name>`, default dev).
import { App } from "aws-cdk-lib";
import { stageConfigFromContext } from "../lib/config.ts";
import { NearbyFriendsStack } from "../lib/nearby-friends-stack.ts";

const app = new App();
const config = stageConfigFromContext(app.node);
new NearbyFriendsStack(app, `NearbyFriends-${config.stage}`, {
  config,
  description: `Nearby Friends real-time location sharing (${config.stage})`,
});
