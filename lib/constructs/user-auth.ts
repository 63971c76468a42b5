// The Cognito user pool that issues the users' tokens (their `sub` is the userId) and its public app
// client. Confirming a sign-up runs the post-confirmation trigger, which creates the profile.
import { Duration, Stack, Validations } from "aws-cdk-lib";
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  UserPool,
  type UserPoolClient,
  UserPoolEmail,
  UserPoolOperation,
} from "aws-cdk-lib/aws-cognito";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

/**
 * The scope of every access token Cognito issues through its API (InitiateAuth,
 * AdminInitiateAuth, refresh), and of no ID token: an ID token has no `scope` claim at all. A
 * route that requires it accepts access tokens only (see HttpRoutesApiProps.scopes).
 */
export const ACCESS_TOKEN_SCOPE = "aws.cognito.signin.user.admin";

/** Send the pool's emails (codes, invitations) through Amazon SES instead of Cognito's own sender. */
export interface UserPoolSesSender {
  /** A From address verified in SES (or of a verified domain), in the stack's region. */
  readonly fromEmail: string;
  /**
   * The SES-verified domain of `fromEmail`, when the domain rather than the address is verified.
   * @default the address itself is verified
   */
  readonly verifiedDomain?: string;
}

export interface UserAuthProps {
  readonly namePrefix: string;
  readonly retainData: boolean;
  readonly postConfirmation: IFunction;
  /**
   * SES as the email sender, for production volumes (Cognito's default sender allows a few dozen
   * emails a day, from a no-reply address).
   * @default Cognito's default email sender
   */
  readonly sesSender?: UserPoolSesSender;
}

export class UserAuth extends Construct {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;

  constructor(scope: Construct, id: string, props: UserAuthProps) {
    super(scope, id);
    const ses = props.sesSender;
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
      // A user may add an authenticator app (TOTP); SMS codes (cost, SIM swapping) and email codes
      // (the same inbox that recovers the account) are not offered as a second factor.
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false, email: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      email: ses
        ? UserPoolEmail.withSES({
            fromEmail: ses.fromEmail,
            ...(ses.verifiedDomain === undefined ? {} : { sesVerifiedDomain: ses.verifiedDomain }),
            // Cognito sends from the SES identity in the pool's own region.
            sesRegion: Stack.of(this).region,
          })
        : UserPoolEmail.withCognito(),
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: props.retainData,
      removalPolicy: removalPolicyFor(props.retainData),
    });
    this.userPool.addTrigger(UserPoolOperation.POST_CONFIRMATION, props.postConfirmation);

    this.client = this.userPool.addClient("AppClient", {
      userPoolClientName: `${props.namePrefix}-app`,
      // A mobile/web app cannot keep a secret.
      generateSecret: false,
      // SRP for the apps (the password never leaves the device); ADMIN_USER_PASSWORD for test users
      // and the black-box tests, which need IAM credentials (cognito-idp:AdminInitiateAuth) so that
      // no public caller can send a plain password. CDK adds ALLOW_REFRESH_TOKEN_AUTH.
      authFlows: { userSrp: true, adminUserPassword: true },
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
          "MFA is optional (TOTP) for a consumer app whose users sign up from their phone; the tokens only grant access to the user's own data and friends' opted-in positions.",
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
