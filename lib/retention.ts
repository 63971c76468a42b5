// What outlives the stack, in one place: a stage that retains its data (StageConfig.retainData)
// keeps every stateful resource together with the KMS key that encrypts it, and any other stage
// destroys both, so that `cdk destroy` leaves nothing behind that a new deployment of the same
// stage trips over (a kept stream whose key was deleted, or a kept key nothing uses).
import { RemovalPolicy } from "aws-cdk-lib";

/** The removal policy of a stateful resource and of its key: RETAIN with the data, else DESTROY. */
export const removalPolicyFor = (retainData: boolean): RemovalPolicy =>
  retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
