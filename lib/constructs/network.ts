// The VPC of one stage: two AZs, public subnets for the NAT gateway(s), private subnets with egress
// for the functions that reach Redis (the @connections API has no private endpoint, hence the NAT).
// The endpoints to DynamoDB, Kinesis and Secrets Manager carry only the calls they are told to
// (`allowThroughEndpoint`): an endpoint policy that names this stage's resources keeps stolen
// credentials, or a compromised function, from using the VPC's path to other tables or streams.
import { Stack } from "aws-cdk-lib";
import {
  FlowLogDestination,
  FlowLogTrafficType,
  type GatewayVpcEndpoint,
  GatewayVpcEndpointAwsService,
  type IConnectable,
  type InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { AnyPrincipal, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export interface NetworkProps {
  readonly namePrefix: string;
  readonly natGateways: number;
  readonly retainLogs: boolean;
}

/** The services the VPC reaches through an endpoint rather than the NAT gateway. */
export type EndpointService = "dynamodb" | "kinesis" | "secretsmanager";

export class Network extends Construct {
  readonly vpc: Vpc;
  /** Closed by default: callers open them to the security groups that need them. */
  readonly interfaceEndpoints: InterfaceVpcEndpoint[];
  private readonly endpoints: Record<EndpointService, GatewayVpcEndpoint | InterfaceVpcEndpoint>;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const flowLogs = new LogGroup(this, "FlowLogs", {
      logGroupName: `/nearby-friends/${props.namePrefix}/vpc-flow-logs`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: removalPolicyFor(props.retainLogs),
    });
    // The flow-log service may assume the role for this account's flow logs only (confused deputy).
    const flowLogRole = new Role(this, "FlowLogRole", {
      assumedBy: new ServicePrincipal("vpc-flow-logs.amazonaws.com", {
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service: "ec2",
              resource: "vpc-flow-log",
              resourceName: "*",
            }),
          },
        },
      }),
      description: "Delivers the VPC flow logs to their log group",
    });
    this.vpc = new Vpc(this, "Vpc", {
      vpcName: props.namePrefix,
      ipAddresses: IpAddresses.cidr("10.40.0.0/16"),
      maxAzs: 2,
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: "public", subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: "private", subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      flowLogs: {
        all: {
          destination: FlowLogDestination.toCloudWatchLogs(flowLogs, flowLogRole),
          trafficType: FlowLogTrafficType.ALL,
        },
      },
    });
    const privateSubnets = { subnetType: SubnetType.PRIVATE_WITH_EGRESS };
    // The hot path (PutRecord on every location update) and the cold start (the Redis AUTH token)
    // stay off the NAT gateway: cheaper per GB and no dependency on it.
    const endpoint = (id: string, service: InterfaceVpcEndpointAwsService) =>
      this.vpc.addInterfaceEndpoint(id, {
        service,
        subnets: privateSubnets,
        privateDnsEnabled: true,
        open: false,
      });
    const kinesis = endpoint("Kinesis", InterfaceVpcEndpointAwsService.KINESIS_STREAMS);
    const secretsManager = endpoint(
      "SecretsManager",
      InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    );
    this.interfaceEndpoints = [kinesis, secretsManager];
    const dynamodb = this.vpc.addGatewayEndpoint("DynamoDb", {
      service: GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [privateSubnets],
    });
    this.endpoints = { dynamodb, kinesis, secretsmanager: secretsManager };
  }

  /** Let functions behind this security group call the interface endpoints (HTTPS). */
  allowEndpointsFrom(peer: IConnectable): void {
    for (const endpoint of this.interfaceEndpoints) endpoint.connections.allowDefaultPortFrom(peer);
  }

  /**
   * Let an endpoint carry these actions on these resources, for this account's principals. The
   * first call gives the endpoint a policy, and from then on it carries nothing it was not told to.
   */
  allowThroughEndpoint(service: EndpointService, actions: string[], resources: string[]): void {
    if (actions.length === 0 || resources.length === 0) return;
    this.endpoints[service].addToPolicy(
      new PolicyStatement({
        principals: [new AnyPrincipal()],
        actions,
        resources,
        conditions: { StringEquals: { "aws:PrincipalAccount": Stack.of(this).account } },
      }),
    );
  }
}
