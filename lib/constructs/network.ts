// The VPC of one stage: two AZs, public subnets for the NAT gateway(s), private subnets with egress
// for the functions that reach Redis (the @connections API has no private endpoint, hence the NAT).
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  type IConnectable,
  type InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  SubnetType,
  Vpc,
} from "aws-cdk-lib/aws-ec2";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export interface NetworkProps {
  readonly namePrefix: string;
  readonly natGateways: number;
  readonly retainLogs: boolean;
}

export class Network extends Construct {
  readonly vpc: Vpc;
  /** Closed by default: callers open them to the security groups that need them. */
  readonly interfaceEndpoints: InterfaceVpcEndpoint[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const flowLogs = new LogGroup(this, "FlowLogs", {
      logGroupName: `/nearby-friends/${props.namePrefix}/vpc-flow-logs`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: removalPolicyFor(props.retainLogs),
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
      gatewayEndpoints: { DynamoDb: { service: GatewayVpcEndpointAwsService.DYNAMODB } },
      flowLogs: {
        all: {
          destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: FlowLogTrafficType.ALL,
        },
      },
    });
    // The hot path (PutRecord on every location update) and the cold start (the Redis AUTH token)
    // stay off the NAT gateway: cheaper per GB and no dependency on it.
    const endpoint = (id: string, service: InterfaceVpcEndpointAwsService) =>
      this.vpc.addInterfaceEndpoint(id, {
        service,
        subnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        open: false,
      });
    this.interfaceEndpoints = [
      endpoint("Kinesis", InterfaceVpcEndpointAwsService.KINESIS_STREAMS),
      endpoint("SecretsManager", InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
    ];
  }

  /** Let functions behind this security group call the interface endpoints (HTTPS). */
  allowEndpointsFrom(peer: IConnectable): void {
    for (const endpoint of this.interfaceEndpoints) endpoint.connections.allowDefaultPortFrom(peer);
  }
}
