// The HTTP API: every route of routes.ts behind a JWT authorizer that accepts this stage's Cognito
// access tokens, on a throttled `$default` stage with access logs.
import { Duration } from "aws-cdk-lib";
import { CorsHttpMethod, HttpApi, HttpMethod, HttpStage } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import type { Throttle } from "../config.ts";
import type { AccessLogs } from "../profiles.ts";
import { accessLogSettings } from "./access-logs.ts";

export interface HttpRoutesApiProps {
  readonly namePrefix: string;
  /** "METHOD /path" → the function serving it. */
  readonly routes: Readonly<Record<string, IFunction>>;
  /** Token issuer (`https://cognito-idp.<region>.amazonaws.com/<poolId>`) and accepted audiences. */
  readonly issuer: string;
  /**
   * The app client ids. API Gateway matches them against a token's `aud` claim or, when it has
   * none, its `client_id` claim: a Cognito ID token carries the client id in `aud`, an access
   * token in `client_id`, so both kinds pass this check; `scopes` is what keeps ID tokens out.
   */
  readonly audience: string[];
  /**
   * Scopes of which every route requires one. With ACCESS_TOKEN_SCOPE (user-auth.ts) only access
   * tokens pass: an ID token has no `scope` claim.
   */
  readonly scopes: string[];
  readonly throttle: Throttle;
  readonly retainLogs: boolean;
  /**
   * The access-log format.
   * @default "full"
   */
  readonly accessLogs?: AccessLogs;
  /**
   * Per-route metrics (custom metrics on the bill).
   * @default false
   */
  readonly detailedMetrics?: boolean;
  /**
   * Origins whose pages may call the API from a browser (CORS preflight answered by API Gateway).
   * @default none: no CORS headers, browsers allow same-origin pages only
   */
  readonly corsOrigins?: readonly string[];
}

/** The access-log fields of each format (the cost estimate sizes a line from them). */
export const HTTP_ACCESS_LOG_FIELDS: Readonly<
  Record<AccessLogs, Readonly<Record<string, string>>>
> = {
  full: {
    requestId: "$context.requestId",
    routeKey: "$context.routeKey",
    status: "$context.status",
    requestTime: "$context.requestTimeEpoch",
    responseLatency: "$context.responseLatency",
    ip: "$context.identity.sourceIp",
    userAgent: "$context.identity.userAgent",
    sub: "$context.authorizer.claims.sub",
    error: "$context.error.message",
    authorizerError: "$context.authorizer.error",
    integrationStatus: "$context.integration.status",
    integrationError: "$context.integration.error",
    integrationLatency: "$context.integration.latency",
  },
  trimmed: {
    requestId: "$context.requestId",
    routeKey: "$context.routeKey",
    status: "$context.status",
    responseLatency: "$context.responseLatency",
    error: "$context.error.message",
    integrationError: "$context.integration.error",
  },
};

function parseRouteKey(routeKey: string): { method: HttpMethod; path: string } {
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  const method = match?.[1];
  const path = match?.[2];
  if (!method || !path || !Object.values(HttpMethod).includes(method as HttpMethod)) {
    throw new Error(`HTTP route key "${routeKey}" is not "METHOD /path"`);
  }
  return { method: method as HttpMethod, path };
}

export class HttpRoutesApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;

  constructor(scope: Construct, id: string, props: HttpRoutesApiProps) {
    super(scope, id);
    const authorizer = new HttpJwtAuthorizer("CognitoJwt", props.issuer, {
      authorizerName: `${props.namePrefix}-jwt`,
      jwtAudience: props.audience,
      identitySource: ["$request.header.Authorization"],
    });
    this.api = new HttpApi(this, "Api", {
      apiName: `${props.namePrefix}-http`,
      description: "Nearby Friends HTTP API (PROTOCOL.md §3)",
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
      ...(props.corsOrigins?.length
        ? {
            corsPreflight: {
              allowOrigins: [...props.corsOrigins],
              allowMethods: [
                CorsHttpMethod.GET,
                CorsHttpMethod.PUT,
                CorsHttpMethod.POST,
                CorsHttpMethod.DELETE,
              ],
              allowHeaders: ["authorization", "content-type"],
              exposeHeaders: ["retry-after"],
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });

    // One integration per function, shared by the routes it serves.
    const integrations = new Map<IFunction, HttpLambdaIntegration>();
    for (const [routeKey, fn] of Object.entries(props.routes)) {
      const { method, path } = parseRouteKey(routeKey);
      let integration = integrations.get(fn);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${fn.node.id}Integration`, fn);
        integrations.set(fn, integration);
      }
      this.api.addRoutes({
        path,
        methods: [method],
        integration,
        authorizer,
        authorizationScopes: props.scopes,
      });
    }

    this.stage = new HttpStage(this, "Stage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      throttle: props.throttle,
      detailedMetricsEnabled: props.detailedMetrics ?? false,
      accessLogSettings: accessLogSettings(this, {
        logGroupName: `/nearby-friends/${props.namePrefix}/http-access`,
        retain: props.retainLogs,
        fields: HTTP_ACCESS_LOG_FIELDS[props.accessLogs ?? "full"],
      }),
    });
  }
}
