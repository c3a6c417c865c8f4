// Seed 000's walkthrough ("Deploying Django at Amazon"), almost line for line, in TypeScript:
// a network with a subnet per tier, a bucket, and a role the app's instances assume to use it.
// Then what the walkthrough left for later: routing, NAT, firewalls, and the app's secrets.
import { defineStack, interpolate, type SubnetHandle } from 'touchdown';

export default defineStack('radpress', (aws) => {
  // Designing your network: one subnet per tier; only the lb tier has public addresses.
  const vpc = aws.addVpc({ name: 'radpress', cidrBlock: '10.0.0.0/16' });

  const subnets: Record<string, SubnetHandle> = {};
  for (const [i, subnet] of ['lb', 'app', 'db'].entries()) {
    subnets[subnet] = vpc.addSubnet({
      name: subnet,
      cidrBlock: `10.0.${i}.0/24`,
      mapPublicIpOnLaunch: subnet === 'lb',
    });
  }

  // Configuring S3: a bucket, and a role (through an instance profile) that lets instances use it.
  // Bucket names are global across AWS accounts and regions: the region keeps each region's copy apart
  // (pick your own prefix when deploying to AWS itself).
  const bucket = aws.addBucket({ name: `radpress-${aws.region}` });

  const instanceProfile = aws.addInstanceProfile({
    name: 'radpress-app',
    roles: [
      aws.addRole({
        name: 'radpress-app',
        assumeRolePolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'ec2.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        policies: {
          app: {
            Version: '2012-10-17',
            Statement: [
              {
                Resource: bucket.arn,
                Effect: 'Allow',
                Action: ['s3:ListBucketVersions', 's3:ListBucket'],
              },
              {
                Resource: interpolate`${bucket.arn}/*`,
                Effect: 'Allow',
                Action: [
                  's3:GetObjectVersion',
                  's3:DeleteObject',
                  's3:DeleteObjectVersion',
                  's3:GetObject',
                  's3:PutObject',
                ],
              },
            ],
          },
        },
      }),
    ],
  });

  // Routing: the lb tier reaches the internet directly; app and db go out through a NAT gateway,
  // and reach S3 through a gateway endpoint (free, and it never leaves AWS).
  const gateway = vpc.addInternetGateway({ name: 'gateway' });
  const nat = subnets.lb!.addNatGateway({ name: 'nat' });
  vpc.addRouteTable({
    name: 'public',
    routes: [{ destinationCidrBlock: '0.0.0.0/0', gatewayId: gateway.id }],
    subnetIds: [subnets.lb!.id],
  });
  const privateRoutes = vpc.addRouteTable({
    name: 'private',
    routes: [{ destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id }],
    subnetIds: [subnets.app!.id, subnets.db!.id],
  });
  vpc.addGatewayEndpoint({ name: 's3', service: 's3', routeTableIds: [privateRoutes.id] });

  // Firewalls chained tier to tier: the internet reaches the lb, the lb the app, the app the database.
  const lb = vpc.addSecurityGroup({
    name: 'lb',
    ingress: [
      { protocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'HTTPS' },
      { protocol: 'tcp', fromPort: 80, toPort: 80, cidrIpv4: '0.0.0.0/0', description: 'HTTP, redirected' },
    ],
  });
  const app = vpc.addSecurityGroup({
    name: 'app',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: 8000,
        toPort: 8000,
        sourceSecurityGroupId: lb.id,
        description: 'gunicorn',
      },
    ],
  });
  vpc.addSecurityGroup({
    name: 'db',
    ingress: [
      {
        protocol: 'tcp',
        fromPort: 5432,
        toPort: 5432,
        sourceSecurityGroupId: app.id,
        description: 'PostgreSQL',
      },
    ],
  });

  // The app's secrets live in AWS, encrypted with the stack's own key, never in code or plans.
  const key = aws.addKmsKey({ name: 'radpress', description: 'radpress secrets' });
  key.addAlias('alias/radpress');
  aws.addSsmParameter({ name: '/radpress/prod/DJANGO_SECRET_KEY', type: 'SecureString', keyId: key.arn });
  aws.addSsmParameter({ name: '/radpress/prod/MEDIA_BUCKET', value: bucket.name });
  aws.addSecret({
    name: 'radpress/prod/database',
    description: 'database master password',
    kmsKeyId: key.arn,
  });

  aws.output('vpc', vpc.id);
  aws.output('bucket', bucket.name);
  aws.output('instanceProfile', instanceProfile.arn);
  aws.output('appSubnet', subnets.app!.id);
});
