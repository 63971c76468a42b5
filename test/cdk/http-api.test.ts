// Assertion tests of the HTTP API construct on a bare stack: CORS only for the origins given (the
// live map served from another origin), and the stage setting that names them.
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import { StageConfigError, stageConfigFromContext } from "../../lib/config.ts";
import { HttpRoutesApi, type HttpRoutesApiProps } from "../../lib/constructs/http-api.ts";

function httpApi(props: Partial<HttpRoutesApiProps> = {}): Template {
  const stack = new Stack(new App(), "Test");
  const fn = new LambdaFunction(stack, "Profile", {
    runtime: Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: Code.fromInline("exports.handler = async () => ({ statusCode: 200 });"),
  });
  new HttpRoutesApi(stack, "Http", {
    namePrefix: "nearby-friends-qa",
    routes: { "GET /me": fn },
    issuer: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test",
    audience: ["client"],
    scopes: ["aws.cognito.signin.user.admin"],
    throttle: { rateLimit: 10, burstLimit: 20 },
    retainLogs: false,
    ...props,
  });
  return Template.fromStack(stack);
}

const context = (values: Record<string, string>) => ({
  tryGetContext: (key: string): unknown => values[key],
});

describe("HttpRoutesApi", () => {
  it("sends no CORS headers by default", () => {
    const api = Object.values(httpApi().findResources("AWS::ApiGatewayV2::Api"));
    expect(api).toHaveLength(1);
    expect(api[0]?.Properties.CorsConfiguration).toBeUndefined();
  });

  it("lets the given origins call it from a browser, with the bearer token", () => {
    httpApi({ corsOrigins: ["https://map.example.com"] }).hasResourceProperties(
      "AWS::ApiGatewayV2::Api",
      {
        CorsConfiguration: {
          AllowOrigins: ["https://map.example.com"],
          AllowHeaders: ["authorization", "content-type"],
          AllowMethods: Match.arrayWith(["GET", "PUT", "POST", "DELETE"]),
          ExposeHeaders: ["retry-after"],
          MaxAge: 3600,
        },
      },
    );
  });
});

describe("webOrigins (stage configuration)", () => {
  it("reads comma-separated origins, none by default", () => {
    expect(stageConfigFromContext(context({})).webOrigins).toEqual([]);
    expect(
      stageConfigFromContext(
        context({ webOrigins: "https://map.example.com, http://localhost:8080" }),
      ).webOrigins,
    ).toEqual(["https://map.example.com", "http://localhost:8080"]);
  });

  it("refuses a path, plain http beyond localhost, and what is not a URL", () => {
    for (const bad of ["https://map.example.com/", "http://map.example.com", "map.example.com"])
      expect(() => stageConfigFromContext(context({ webOrigins: bad }))).toThrow(StageConfigError);
  });
});
