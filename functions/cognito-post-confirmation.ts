// Cognito post-confirmation trigger: creates the confirmed user's profile. Idempotent, so a retried
// trigger leaves an existing profile as it is.
import middy from "@middy/core";
import type { PostConfirmationTriggerEvent } from "aws-lambda";
import { initialDisplayName } from "./domain/profile.ts";
import { observe } from "./middleware/observability.ts";
import { usersRepo } from "./wiring.ts";

const users = usersRepo();

const createProfile = async (
  event: PostConfirmationTriggerEvent,
): Promise<PostConfirmationTriggerEvent> => {
  // The trigger also runs after a password reset; only a sign-up creates a user.
  if (event.triggerSource !== "PostConfirmation_ConfirmSignUp") return event;
  const attributes = event.request.userAttributes;
  const userId = attributes.sub;
  if (!userId) throw new Error("the confirmed user has no sub attribute");
  await users.createIfMissing({
    userId,
    displayName: initialDisplayName(attributes.preferred_username, attributes.name),
  });
  return event;
};

export const handler = middy(createProfile).use(observe());
