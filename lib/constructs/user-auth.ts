// The Cognito user pool that issues the users' tokens (their `sub` is the userId) and its public app
// client. Confirming a sign-up runs the post-confirmation trigger, which creates the profile.
import { Duration, Validations } from "aws-cdk-lib";
import {
  AccountRecovery,
  FeaturePlan,
  UserPool,
  type UserPoolClient,
  UserPoolOperation,
} from "aws-cdk-lib/aws-cognito";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export interface UserAuthProps {
  readonly namePrefix: string;
  readonly retainData: boolean;
  readonly postConfirmation: IFunction;
}

export class UserAuth extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;

  constructor(scope: Construct, id: string, props: UserAuthProps) {
    super(scope, id);
    this.userPool = new UserPool(this, "UserPool", {
      userPoolName: props.namePrefix,
      selfSignUpEnabled: true,
      signInAliases: { email: true },
      autoVerify: { email: true },
      standardAttributes: {
        email: { required: true, mutable: true },
        preferredUsername: { required: false, mutable: true },
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: props.retainData,
      removalPolicy: removalPolicyFor(props.retainData),
    });
    this.userPool.addTrigger(UserPoolOperation.POST_CONFIRMATION, props.postConfirmation);

    this.client = this.userPool.addClient("AppClient", {
      userPoolClientName: `${props.namePrefix}-app`,
      // A mobile/web app cannot keep a secret.
      generateSecret: false,
      // SRP for the apps; user-password for test users and the black-box tests.
      authFlows: { userSrp: true, userPassword: true },
      // No hosted UI: the apps sign in through the Cognito API, so no OAuth flows or callback URLs.
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    Validations.of(this.userPool).acknowledge(
      {
        id: "AwsSolutions-COG2",
        reason:
          "MFA stays optional for a consumer app (users sign up from their phone); the tokens only grant access to the user's own data and friends' opted-in positions.",
      },
      {
        id: "AwsSolutions-COG8",
        reason:
          "Threat protection (advanced security) requires the Cognito Plus feature plan, a per-MAU cost decided per stage; the pool uses the Essentials plan.",
      },
    );
  }

  /** The issuer that signs this pool's tokens (the JWT authorizer's `iss`). */
  get issuer(): string {
    return `https://cognito-idp.${this.userPool.stack.region}.amazonaws.com/${this.userPool.userPoolId}`;
  }
}
