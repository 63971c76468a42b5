// The Redis-compatible location cache: a Valkey replication group in cluster mode, Multi-AZ with
// automatic failover, TLS and encryption at rest, an AUTH token kept in Secrets Manager, reachable
// on its port only from the security group of the functions that use it.
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { type IVpc, Peer, Port, SecurityGroup, SubnetType } from "aws-cdk-lib/aws-ec2";
import { CfnReplicationGroup, CfnSubnetGroup } from "aws-cdk-lib/aws-elasticache";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { removalPolicyFor } from "../retention.ts";

export const REDIS_PORT = 6379;

export interface LocationCacheProps {
  readonly namePrefix: string;
  readonly vpc: IVpc;
  readonly nodeType: string;
  readonly numNodeGroups: number;
  readonly replicasPerNodeGroup: number;
  readonly retainData: boolean;
}

export class LocationCache extends Construct {
  /** Attach this group to a function to let it reach the cache (and nothing else to). */
  readonly clientSecurityGroup: SecurityGroup;
  readonly authSecret: Secret;
  readonly replicationGroup: CfnReplicationGroup;
  readonly replicationGroupId: string;
  /** `rediss://<configuration endpoint>:<port>`: TLS, cluster mode. */
  readonly url: string;
  readonly numNodeGroups: number;
  readonly replicasPerNodeGroup: number;

  constructor(scope: Construct, id: string, props: LocationCacheProps) {
    super(scope, id);
    this.numNodeGroups = props.numNodeGroups;
    this.replicasPerNodeGroup = props.replicasPerNodeGroup;
    this.replicationGroupId = props.namePrefix;

    this.clientSecurityGroup = new SecurityGroup(this, "ClientSecurityGroup", {
      vpc: props.vpc,
      securityGroupName: `${props.namePrefix}-redis-clients`,
      description: "Functions that use the location cache",
      // Clients call Kinesis, DynamoDB, Secrets Manager and the @connections API over HTTPS.
      allowAllOutbound: true,
    });
    const cacheSecurityGroup = new SecurityGroup(this, "SecurityGroup", {
      vpc: props.vpc,
      securityGroupName: `${props.namePrefix}-redis`,
      description: "Location cache: Redis port from the client security group only",
      allowAllOutbound: false,
    });
    cacheSecurityGroup.addIngressRule(
      Peer.securityGroupId(this.clientSecurityGroup.securityGroupId),
      Port.tcp(REDIS_PORT),
      "Redis (TLS) from the functions that use the cache",
    );

    this.authSecret = new Secret(this, "AuthToken", {
      secretName: `${props.namePrefix}/redis-auth-token`,
      description: "AUTH token of the location cache",
      generateSecretString: {
        secretStringTemplate: "{}",
        generateStringKey: "password",
        // ElastiCache AUTH tokens allow only printable ASCII without @, " and /.
        excludePunctuation: true,
        passwordLength: 32,
      },
      removalPolicy: removalPolicyFor(props.retainData),
    });

    const subnetGroup = new CfnSubnetGroup(this, "SubnetGroup", {
      cacheSubnetGroupName: `${props.namePrefix}-redis`,
      description: "Private subnets of the location cache",
      subnetIds: props.vpc.selectSubnets({ subnetType: SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
    });

    this.replicationGroup = new CfnReplicationGroup(this, "ReplicationGroup", {
      replicationGroupId: this.replicationGroupId,
      replicationGroupDescription: `Nearby Friends location cache (${props.namePrefix})`,
      engine: "valkey",
      engineVersion: "8.0",
      // Cluster mode needs a parameter group with cluster-enabled=yes.
      cacheParameterGroupName: "default.valkey8.cluster.on",
      clusterMode: "enabled",
      cacheNodeType: props.nodeType,
      numNodeGroups: props.numNodeGroups,
      replicasPerNodeGroup: props.replicasPerNodeGroup,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      authToken: this.authSecret.secretValueFromJson("password").unsafeUnwrap(),
      port: REDIS_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [cacheSecurityGroup.securityGroupId],
      autoMinorVersionUpgrade: true,
      // Positions live for minutes and are rebuilt by the next update: a daily snapshot is enough
      // to restore the connection/subscription state after a total loss.
      snapshotRetentionLimit: 1,
      preferredMaintenanceWindow: "sun:03:00-sun:04:00",
      snapshotWindow: "01:00-02:00",
    });
    // The cache's form of "retained": a final snapshot (its at-rest key is AWS-managed).
    this.replicationGroup.applyRemovalPolicy(
      props.retainData ? RemovalPolicy.SNAPSHOT : removalPolicyFor(false),
    );

    this.url = `rediss://${this.replicationGroup.attrConfigurationEndPointAddress}:${this.replicationGroup.attrConfigurationEndPointPort}`;

    Validations.of(this.replicationGroup).acknowledge({
      id: "AwsSolutions-AEC5",
      reason:
        "The port is not a control: the group accepts TLS connections with the AUTH token, only from the client security group, in private subnets.",
    });
    Validations.of(this.authSecret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Rotating an ElastiCache AUTH token needs a ModifyReplicationGroup ROTATE/SET sequence that the generic rotation Lambdas do not implement; rotate with a deployment (new secret version) until a dedicated rotation function exists.",
    });
  }

  /** The CacheClusterId of every node (`<group>-<shard 0001..>-<node 001..>`), for per-node metrics. */
  nodeIds(): string[] {
    const ids: string[] = [];
    for (let shard = 1; shard <= this.numNodeGroups; shard++) {
      for (let node = 1; node <= this.replicasPerNodeGroup + 1; node++) {
        ids.push(
          `${this.replicationGroupId}-${String(shard).padStart(4, "0")}-${String(node).padStart(3, "0")}`,
        );
      }
    }
    return ids;
  }
}
