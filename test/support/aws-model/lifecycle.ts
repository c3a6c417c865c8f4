// The time model's effect on answers. When a create, change or delete passes through, the resource is busy
// until its time in the table has passed; meanwhile its describe answers say so, in AWS's own states
// (creating, InProgress, provisioning, PENDING, PENDING_VALIDATION, a deployment IN_PROGRESS, deleting).
// moto itself makes most things ready at once and forgets deleted ones: while a resource is still
// deleting, a describe naming it is answered from what it looked like just before the delete.
import type { ModelClock } from './clock.js';
import { ec2Error, jsonError, queryError, restJsonError } from './faults.js';
import type { Answer, Call } from './operations.js';
import { ECS_RELEASE, type ModelledResource, ONE_OFF, TIMES } from './times.js';
import { editElements, textOf, without, withText } from './xml.js';

type Phase = 'creating' | 'modifying' | 'deleting';

/** Sends a request of our own to moto with a call's credentials (a read before a delete). */
export type Reader = (call: Call, body: string) => Promise<Answer>;

/** AWS milliseconds for AWS seconds: every time below is read on the model's clock. */
const ms = (awsSeconds: number) => awsSeconds * 1000;

export class Lifecycle {
  /** Resources busy until a time on the model's clock (AWS ms). */
  private readonly busy = new Map<string, { phase: Phase; until: number }>();
  /** Describe answers read just before a delete, by resource. */
  private readonly beforeDelete = new Map<string, Answer>();
  /** Route 53 record names (lower case, no final dot), by when their change was sent (model clock). */
  private readonly records = new Map<string, number>();
  private readonly certificates = new Set<string>();
  /** IAM role ARNs and names, by when they were created (model clock). */
  private readonly roles = new Map<string, number>();
  /** Calls AWS would have refused (a role not assumable yet), by reason. */
  readonly refusals: Record<string, number> = {};
  /** Target groups' health checks and deregistration delay, as their describe answers showed them. */
  private readonly targetGroups = new Map<
    string,
    { intervalSeconds?: number; healthyThreshold?: number; deregistrationDelaySeconds?: number }
  >();

  constructor(
    private readonly clock: ModelClock,
    private readonly read: Reader,
  ) {}

  async before(call: Call): Promise<Answer | undefined> {
    for (const rule of RULES) {
      const refused = await rule.before?.(call, this);
      if (refused) return refused;
    }
    return undefined;
  }

  after(call: Call, answer: Answer): Answer {
    let out = answer;
    for (const rule of RULES) out = rule.after?.(call, out, this) ?? out;
    return out;
  }

  // ---- what the rules use ----

  start(resource: ModelledResource, id: string | undefined, phase: Phase): void {
    const row: { create: number; update?: number; delete?: number } = TIMES[resource];
    const seconds = phase === 'creating' ? row.create : phase === 'modifying' ? row.update : row.delete;
    if (id === undefined || seconds === undefined) return;
    this.busy.set(`${resource} ${id}`, { phase, until: this.clock.now() + ms(seconds) });
  }

  /** As start, for a time that depends on the resource's settings (a rolling deployment). */
  startFor(resource: ModelledResource, id: string | undefined, phase: Phase, seconds: number): void {
    if (id !== undefined)
      this.busy.set(`${resource} ${id}`, { phase, until: this.clock.now() + ms(seconds) });
  }

  targetGroupSeen(
    arn: string,
    settings: { intervalSeconds?: number; healthyThreshold?: number; deregistrationDelaySeconds?: number },
  ): void {
    const known = this.targetGroups.get(arn) ?? {};
    for (const [k, v] of Object.entries(settings))
      if (v !== undefined && !Number.isNaN(v)) Object.assign(known, { [k]: v });
    this.targetGroups.set(arn, known);
  }

  /** A rolling replacement behind these target groups: start, health checks, draining (the slowest group's). */
  rollingReplacement(targetGroupArns: string[]): number {
    const d = ECS_RELEASE;
    const each = targetGroupArns.map((arn) => {
      const g = this.targetGroups.get(arn) ?? {};
      // A newly registered target is healthy after one passing check, whatever the healthy threshold.
      return (
        (g.intervalSeconds ?? d.healthChecks.intervalSeconds) * d.healthChecks.newTargetChecks +
        (g.deregistrationDelaySeconds ?? d.draining.deregistrationDelaySeconds)
      );
    });
    return d.taskStart.seconds + Math.max(0, ...each);
  }

  phase(resource: ModelledResource, id: string | undefined): Phase | undefined {
    const key = `${resource} ${id}`;
    const b = this.busy.get(key);
    if (!b) return undefined;
    if (this.clock.now() < b.until) return b.phase;
    this.busy.delete(key);
    this.beforeDelete.delete(key);
    return undefined;
  }

  /** Reads a resource about to be deleted, so it can still be shown as deleting after moto forgot it. */
  async keepForDeletion(resource: ModelledResource, id: string, call: Call, describe: string): Promise<void> {
    const answer = await this.read(call, describe);
    if (ok(answer)) this.beforeDelete.set(`${resource} ${id}`, answer);
  }

  /** moto's "not found" for a resource AWS is still deleting: the answer from before the delete instead. */
  stillDeleting(resource: ModelledResource, id: string | undefined, answer: Answer): Answer {
    if (ok(answer) || this.phase(resource, id) !== 'deleting') return answer;
    return this.beforeDelete.get(`${resource} ${id}`) ?? answer;
  }

  recordsSent(names: string[]): void {
    for (const n of names) this.records.set(dnsName(n), this.clock.now());
  }

  certificateRequested(arn: string): void {
    this.certificates.add(arn);
  }

  /** ISSUED only once every validation record has reached the name servers and ACM has seen it. */
  certificatePending(arn: string, recordNames: string[]): boolean {
    if (!this.certificates.has(arn)) return false;
    const sent = recordNames.map((n) => this.records.get(dnsName(n)));
    if (recordNames.length === 0 || sent.some((t) => t === undefined)) return true;
    const ready =
      Math.max(...(sent as number[])) + ms(TIMES.route53Change.create + TIMES.acmValidation.create);
    return this.clock.now() < ready;
  }

  roleCreated(arn: string | undefined): void {
    if (arn) this.roles.set(arn, this.clock.now());
  }

  roleAssumable(arn: string): boolean {
    const made = this.roles.get(arn);
    return made === undefined || this.clock.now() >= made + ms(TIMES.iamRole.create);
  }

  // ---- instance profiles, and the launch templates that name them ----

  /** Instance profile names by when they were made or last given a role (model clock); their ARNs' names. */
  private readonly profiles = new Map<string, number>();
  /** Launch template ids and names: the profile (name) their latest version names. */
  private readonly templateProfiles = new Map<string, string>();

  profileChanged(name: string | undefined): void {
    if (name) this.profiles.set(name, this.clock.now());
  }

  /** A profile by name or ARN (`arn:aws:iam::1:instance-profile/path/name`): its name. */
  static profileName(nameOrArn: string): string {
    return nameOrArn.split('/').at(-1)!;
  }

  profileVisible(nameOrArn: string): boolean {
    const changed = this.profiles.get(Lifecycle.profileName(nameOrArn));
    return changed === undefined || this.clock.now() >= changed + ms(TIMES.iamRole.create);
  }

  templateNames(keys: (string | undefined)[], profile: string | undefined): void {
    if (!profile) return;
    for (const key of keys) if (key) this.templateProfiles.set(key, Lifecycle.profileName(profile));
  }

  templateProfile(key: string | undefined): string | undefined {
    return key === undefined ? undefined : this.templateProfiles.get(key);
  }

  refused(reason: string): void {
    this.refusals[reason] = (this.refusals[reason] ?? 0) + 1;
  }
}

interface Rule {
  /** Before moto sees the call: an answer here is AWS refusing it. */
  before?(call: Call, m: Lifecycle): Promise<Answer | undefined> | undefined;
  /** moto's answer: notes what started, rewrites what is not ready yet. */
  after?(call: Call, answer: Answer, m: Lifecycle): Answer | undefined;
}

const ok = (a: Answer) => a.status >= 200 && a.status < 300;
const dnsName = (n: string) => n.toLowerCase().replace(/\.$/, '');
const lower = (s: string | null | undefined) => s?.toLowerCase() ?? undefined;

function editXml(answer: Answer, parent: string, name: string, edit: (el: string) => string): Answer {
  const body = answer.body.toString('utf8');
  const edited = editElements(body, parent, name, edit);
  return edited === body ? answer : { ...answer, body: Buffer.from(edited) };
}

function editJson(answer: Answer, edit: (body: Record<string, unknown>) => boolean): Answer {
  if (!ok(answer)) return answer;
  const body = JSON.parse(answer.body.toString('utf8') || '{}') as Record<string, unknown>;
  return edit(body) ? { ...answer, body: Buffer.from(JSON.stringify(body)) } : answer;
}

/** Before a query-protocol delete: the resource as it is now, to show while AWS would still be deleting it. */
function keepOnDelete(
  resource: ModelledResource,
  service: string,
  deleteOperation: string,
  idParameter: string,
  describeOperation: string,
): Rule['before'] {
  return async (call, m) => {
    if (call.service !== service || call.operation !== deleteOperation) return undefined;
    const id = lower(call.form.get(idParameter))!;
    const read = new URLSearchParams({ Action: describeOperation, Version: call.form.get('Version') ?? '' });
    read.set(idParameter, id);
    await m.keepForDeletion(resource, id, call, read.toString());
    return undefined;
  };
}

const RDS_CREATES = new Set([
  'CreateDBInstance',
  'CreateDBInstanceReadReplica',
  'RestoreDBInstanceFromDBSnapshot',
  'RestoreDBInstanceToPointInTime',
]);

const keepRdsInstance = keepOnDelete(
  'rdsInstance',
  'rds',
  'DeleteDBInstance',
  'DBInstanceIdentifier',
  'DescribeDBInstances',
);

const rdsInstance: Rule = {
  before(call, m) {
    if (call.service !== 'rds' || call.operation !== 'DeleteDBInstance') return undefined;
    // Lifting deletion protection is a modification like any other: until the instance is available again,
    // RDS still treats it as protected.
    const id = lower(call.form.get('DBInstanceIdentifier'));
    if (m.phase('rdsInstance', id) === 'modifying') {
      m.refused('deletedWhileModifying');
      return Promise.resolve(
        queryError(
          400,
          'Sender',
          'InvalidParameterCombination',
          'Cannot delete protected DB Instance, please disable deletion protection and try again.',
        ),
      );
    }
    return keepRdsInstance?.(call, m);
  },
  after(call, answer, m) {
    if (call.service !== 'rds') return undefined;
    const op = call.operation;
    const id = lower(call.form.get('DBInstanceIdentifier') ?? call.form.get('TargetDBInstanceIdentifier'));
    if (ok(answer) && RDS_CREATES.has(op)) m.start('rdsInstance', id, 'creating');
    if (ok(answer) && op === 'ModifyDBInstance' && call.form.get('ApplyImmediately') === 'true')
      m.start('rdsInstance', id, 'modifying');
    if (ok(answer) && op === 'DeleteDBInstance') m.start('rdsInstance', id, 'deleting');
    if (op !== 'DescribeDBInstances') return undefined;
    return editXml(m.stillDeleting('rdsInstance', id, answer), 'DBInstances', 'DBInstance', (el) => {
      const phase = m.phase('rdsInstance', lower(textOf(el, 'DBInstanceIdentifier')));
      if (!phase) return el;
      // AWS gives a database its endpoint only once it is created.
      const shown = withText(el, 'DBInstanceStatus', phase);
      return phase === 'creating' ? without(shown, 'Endpoint') : shown;
    });
  },
};

const REPLICATION_GROUP_CHANGES = new Set([
  'ModifyReplicationGroup',
  'IncreaseReplicaCount',
  'DecreaseReplicaCount',
  'ModifyReplicationGroupShardConfiguration',
]);

const elastiCache: Rule = {
  before: keepOnDelete(
    'elasticacheReplicationGroup',
    'elasticache',
    'DeleteReplicationGroup',
    'ReplicationGroupId',
    'DescribeReplicationGroups',
  ),
  after(call, answer, m) {
    if (call.service !== 'elasticache') return undefined;
    const op = call.operation;
    const group = lower(call.form.get('ReplicationGroupId'));
    const cluster = lower(call.form.get('CacheClusterId'));
    if (ok(answer)) {
      if (op === 'CreateReplicationGroup') m.start('elasticacheReplicationGroup', group, 'creating');
      if (REPLICATION_GROUP_CHANGES.has(op) && call.form.get('ApplyImmediately') !== 'false')
        m.start('elasticacheReplicationGroup', group, 'modifying');
      if (op === 'DeleteReplicationGroup') m.start('elasticacheReplicationGroup', group, 'deleting');
      if (op === 'CreateCacheCluster' && !group) m.start('elasticacheCacheCluster', cluster, 'creating');
      if (op === 'ModifyCacheCluster') m.start('elasticacheCacheCluster', cluster, 'modifying');
      if (op === 'DeleteCacheCluster') m.start('elasticacheCacheCluster', cluster, 'deleting');
    }
    if (op === 'DescribeReplicationGroups') {
      const seen = m.stillDeleting('elasticacheReplicationGroup', group, answer);
      return editXml(seen, 'ReplicationGroups', 'ReplicationGroup', (el) => {
        const phase = m.phase('elasticacheReplicationGroup', lower(textOf(el, 'ReplicationGroupId')));
        // The group's status and its node groups' follow the group.
        return phase ? withText(el, 'Status', phase, true) : el;
      });
    }
    if (op === 'DescribeCacheClusters') {
      return editXml(answer, 'CacheClusters', 'CacheCluster', (el) => {
        const phase =
          m.phase('elasticacheReplicationGroup', lower(textOf(el, 'ReplicationGroupId'))) ??
          m.phase('elasticacheCacheCluster', lower(textOf(el, 'CacheClusterId')));
        return phase ? withText(el, 'CacheClusterStatus', phase) : el;
      });
    }
    return undefined;
  },
};

const cloudFront: Rule = {
  after(call, answer, m) {
    if (call.service !== 'cloudfront') return undefined;
    const op = call.operation;
    const body = answer.body.toString('utf8');
    if (ok(answer) && op.startsWith('CreateDistribution'))
      m.start('cloudfrontDistribution', textOf(body, 'Id'), 'creating');
    if (ok(answer) && op === 'UpdateDistribution')
      m.start('cloudfrontDistribution', call.path.split('/')[3], 'modifying');
    if (op === 'GetDistribution' && ok(answer) && m.phase('cloudfrontDistribution', call.path.split('/')[3]))
      return { ...answer, body: Buffer.from(withText(body, 'Status', 'InProgress')) };
    if (op === 'ListDistributions') {
      return editXml(answer, 'Items', 'DistributionSummary', (el) =>
        m.phase('cloudfrontDistribution', textOf(el, 'Id')) ? withText(el, 'Status', 'InProgress') : el,
      );
    }
    return undefined;
  },
};

const loadBalancer: Rule = {
  after(call, answer, m) {
    if (call.service !== 'elasticloadbalancing') return undefined;
    const body = answer.body.toString('utf8');
    if (ok(answer) && call.operation === 'CreateLoadBalancer')
      m.start('loadBalancer', textOf(body, 'LoadBalancerArn'), 'creating');
    if (call.operation !== 'DescribeLoadBalancers') return undefined;
    return editXml(answer, 'LoadBalancers', 'member', (el) =>
      m.phase('loadBalancer', textOf(el, 'LoadBalancerArn')) ? withText(el, 'Code', 'provisioning') : el,
    );
  },
};

const natGateway: Rule = {
  after(call, answer, m) {
    if (call.service !== 'ec2') return undefined;
    const op = call.operation;
    if (ok(answer) && op === 'CreateNatGateway')
      m.start('natGateway', textOf(answer.body.toString('utf8'), 'natGatewayId'), 'creating');
    if (ok(answer) && op === 'DeleteNatGateway')
      m.start('natGateway', call.form.get('NatGatewayId')!, 'deleting');
    if (op !== 'DescribeNatGateways') return undefined;
    return editXml(answer, 'natGatewaySet', 'item', (el) => {
      const phase = m.phase('natGateway', textOf(el, 'natGatewayId'));
      return phase ? withText(el, 'state', phase === 'creating' ? 'pending' : 'deleting') : el;
    });
  },
};

const route53: Rule = {
  after(call, answer, m) {
    if (call.service !== 'route53' || !ok(answer)) return undefined;
    const op = call.operation;
    const body = answer.body.toString('utf8');
    const info = /<ChangeInfo>[\s\S]*?<\/ChangeInfo>/.exec(body)?.[0];
    if (!info) return undefined;
    const id = textOf(info, 'Id')?.replace(/^\/change\//, '');
    if (op !== 'GetChange') {
      m.start('route53Change', id, 'creating');
      if (op === 'ChangeResourceRecordSets') m.recordsSent(writtenNames(call.body.toString('utf8')));
    }
    if (!m.phase('route53Change', id)) return undefined;
    const pending = body.replace(info, withText(info, 'Status', 'PENDING'));
    return { ...answer, body: Buffer.from(pending) };
  },
};

/** Names of the records a change batch creates or upserts. */
function writtenNames(xml: string): string[] {
  const names: string[] = [];
  editElements(xml, 'Changes', 'Change', (el) => {
    if (textOf(el, 'Action') !== 'DELETE') names.push(textOf(el, 'Name') ?? '');
    return el;
  });
  return names;
}

interface AcmCertificate {
  CertificateArn?: string;
  Status?: string;
  DomainValidationOptions?: { ValidationStatus?: string; ResourceRecord?: { Name?: string } }[];
}

const acm: Rule = {
  after(call, answer, m) {
    if (call.service !== 'acm' || !ok(answer)) return undefined;
    if (call.operation === 'RequestCertificate') {
      m.certificateRequested(String(JSON.parse(answer.body.toString('utf8')).CertificateArn));
      return undefined;
    }
    const pending = (c: AcmCertificate) =>
      c.Status === 'ISSUED' &&
      m.certificatePending(
        c.CertificateArn ?? '',
        (c.DomainValidationOptions ?? []).map((o) => o.ResourceRecord?.Name ?? ''),
      );
    if (call.operation === 'DescribeCertificate') {
      return editJson(answer, (body) => {
        const c = body.Certificate as AcmCertificate | undefined;
        if (!c || !pending(c)) return false;
        c.Status = 'PENDING_VALIDATION';
        for (const o of c.DomainValidationOptions ?? []) o.ValidationStatus = 'PENDING_VALIDATION';
        return true;
      });
    }
    return undefined;
  },
};

interface EcsService {
  serviceArn?: string;
  loadBalancers?: { targetGroupArn?: string }[];
  status?: string;
  desiredCount?: number;
  runningCount?: number;
  pendingCount?: number;
  deployments?: { status?: string; rolloutState?: string; runningCount?: number; pendingCount?: number }[];
}

const ecsService: Rule = {
  after(call, answer, m) {
    if (call.service !== 'ecs' || !ok(answer)) return undefined;
    const op = call.operation;
    if (op === 'UpdateService' && (call.json.taskDefinition || call.json.forceNewDeployment)) {
      // New tasks replace the old ones: the time follows the target groups' settings.
      const s = JSON.parse(answer.body.toString('utf8')).service as EcsService | undefined;
      const groups = (s?.loadBalancers ?? []).map((l) => l.targetGroupArn ?? '').filter(Boolean);
      m.startFor('ecsService', s?.serviceArn, 'modifying', m.rollingReplacement(groups));
      return undefined;
    }
    if (op === 'CreateService' || op === 'UpdateService' || op === 'DeleteService') {
      const arn = (JSON.parse(answer.body.toString('utf8')).service as EcsService | undefined)?.serviceArn;
      m.start(
        'ecsService',
        arn,
        op === 'CreateService' ? 'creating' : op === 'UpdateService' ? 'modifying' : 'deleting',
      );
      return undefined;
    }
    if (op !== 'DescribeServices') return undefined;
    return editJson(answer, (body) => {
      let edited = false;
      for (const s of (body.services as EcsService[] | undefined) ?? []) {
        const phase = m.phase('ecsService', s.serviceArn);
        if (!phase) continue;
        edited = true;
        if (phase === 'deleting') {
          s.status = 'DRAINING';
          continue;
        }
        // Tasks are starting and not yet healthy: the primary deployment is still rolling out.
        s.runningCount = 0;
        s.pendingCount = s.desiredCount ?? 0;
        const primary = s.deployments?.find((d) => d.status === 'PRIMARY');
        if (primary)
          Object.assign(primary, {
            rolloutState: 'IN_PROGRESS',
            runningCount: 0,
            pendingCount: s.desiredCount ?? 0,
          });
      }
      return edited;
    });
  },
};

const LAMBDA_ROLE_CALLS = new Set(['CreateFunction', 'UpdateFunctionConfiguration']);

/** The roles a call hands to a service that assumes them at once, with AWS's refusal while one is too young. */
function rolesPassed(call: Call): { roles: string[]; refusal: () => Answer } | undefined {
  if (
    call.service === 'scheduler' &&
    (call.operation === 'CreateSchedule' || call.operation === 'UpdateSchedule')
  ) {
    const role = (call.json.Target as { RoleArn?: string } | undefined)?.RoleArn;
    return {
      roles: role ? [role] : [],
      refusal: () =>
        restJsonError(
          400,
          'ValidationException',
          'The execution role you provide must allow AWS EventBridge Scheduler to assume the role.',
        ),
    };
  }
  if (call.service === 'ecs' && (call.operation === 'CreateService' || call.operation === 'UpdateService')) {
    // A blue/green deployment's role, which ECS assumes to validate the listener rule it will switch.
    const balancers = (call.json.loadBalancers as { advancedConfiguration?: { roleArn?: string } }[]) ?? [];
    return {
      roles: balancers.map((b) => b.advancedConfiguration?.roleArn).filter((r) => r !== undefined),
      refusal: () =>
        jsonError(
          call,
          400,
          'InvalidParameterException',
          'Unable to assume role and validate the listener rule. Please verify the role passed has the proper permissions.',
        ),
    };
  }
  return undefined;
}

/** Auto Scaling validates the launch template's instance profile when a group is made or changed; EC2 at launch. */
function profileRefusal(call: Call, m: Lifecycle): Answer | undefined {
  const f = call.form;
  if (
    call.service === 'autoscaling' &&
    ['CreateAutoScalingGroup', 'UpdateAutoScalingGroup'].includes(call.operation)
  ) {
    const profile = m.templateProfile(
      f.get('LaunchTemplate.LaunchTemplateId') ?? f.get('LaunchTemplate.LaunchTemplateName') ?? undefined,
    );
    if (!profile || m.profileVisible(profile)) return undefined;
    return queryError(
      400,
      'Sender',
      'ValidationError',
      `You must use a valid fully-formed launch template. Value (${profile}) for parameter iamInstanceProfile.name is invalid. Invalid IamInstanceProfile`,
    );
  }
  if (call.service === 'ec2' && call.operation === 'RunInstances') {
    const profile = f.get('IamInstanceProfile.Arn') ?? f.get('IamInstanceProfile.Name');
    if (!profile || m.profileVisible(profile)) return undefined;
    return ec2Error(
      400,
      'InvalidParameterValue',
      `Value (${Lifecycle.profileName(profile)}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
    );
  }
  return undefined;
}

/** Notes instance profiles made or given a role, and the profile each launch template names. */
function notePropagation(call: Call, answer: Answer, m: Lifecycle): void {
  if (!ok(answer)) return;
  const f = call.form;
  if (
    call.service === 'iam' &&
    ['CreateInstanceProfile', 'AddRoleToInstanceProfile'].includes(call.operation)
  )
    m.profileChanged(f.get('InstanceProfileName') ?? undefined);
  if (
    call.service === 'ec2' &&
    ['CreateLaunchTemplate', 'CreateLaunchTemplateVersion'].includes(call.operation)
  ) {
    const body = answer.body.toString('utf8');
    const profile =
      f.get('LaunchTemplateData.IamInstanceProfile.Arn') ??
      f.get('LaunchTemplateData.IamInstanceProfile.Name');
    m.templateNames(
      [
        textOf(body, 'launchTemplateId') ?? f.get('LaunchTemplateId') ?? undefined,
        f.get('LaunchTemplateName') ?? undefined,
      ],
      profile ?? undefined,
    );
  }
}

const iamRole: Rule = {
  before(call, m) {
    const passed = rolesPassed(call);
    if (passed) {
      if (passed.roles.every((r) => m.roleAssumable(r))) return undefined;
      m.refused('roleNotAssumable');
      return Promise.resolve(passed.refusal());
    }
    const profile = profileRefusal(call, m);
    if (profile) {
      m.refused('profileNotVisible');
      return Promise.resolve(profile);
    }
    if (call.service !== 'lambda' || !LAMBDA_ROLE_CALLS.has(call.operation)) return undefined;
    const role = typeof call.json.Role === 'string' ? call.json.Role : undefined;
    if (!role || m.roleAssumable(role)) return undefined;
    m.refused('roleNotAssumable');
    return Promise.resolve(
      restJsonError(
        400,
        'InvalidParameterValueException',
        'The role defined for the function cannot be assumed by Lambda.',
        {
          Type: 'User',
        },
      ),
    );
  },
  after(call, answer, m) {
    if (call.service === 'iam' && call.operation === 'CreateRole' && ok(answer))
      m.roleCreated(textOf(answer.body.toString('utf8'), 'Arn'));
    notePropagation(call, answer, m);
    return undefined;
  },
};

/** Notes each target group's health checks and deregistration delay as the plan reads them. */
const targetGroups: Rule = {
  after(call, answer, m) {
    if (call.service !== 'elasticloadbalancing' || !ok(answer)) return undefined;
    const body = answer.body.toString('utf8');
    if (call.operation === 'DescribeTargetGroups') {
      editElements(body, 'TargetGroups', 'member', (el) => {
        m.targetGroupSeen(textOf(el, 'TargetGroupArn') ?? '', {
          intervalSeconds: Number(textOf(el, 'HealthCheckIntervalSeconds')),
          healthyThreshold: Number(textOf(el, 'HealthyThresholdCount')),
        });
        return el;
      });
    }
    if (call.operation === 'DescribeTargetGroupAttributes') {
      editElements(body, 'Attributes', 'member', (el) => {
        if (textOf(el, 'Key') === 'deregistration_delay.timeout_seconds')
          m.targetGroupSeen(call.form.get('TargetGroupArn') ?? '', {
            deregistrationDelaySeconds: Number(textOf(el, 'Value')),
          });
        return el;
      });
    }
    return undefined;
  },
};

interface EcsTask {
  taskArn?: string;
  lastStatus?: string;
  desiredStatus?: string;
}

/** How many management commands a RunTask runs: those of Touchdown's release runner, or one. */
function commandsIn(call: Call): number {
  const request = JSON.parse(call.body.toString('utf8') || '{}') as {
    overrides?: { containerOverrides?: { command?: string[] }[] };
  };
  const command = request.overrides?.containerOverrides?.[0]?.command ?? [];
  if (command[1] !== '-c' || !command[2]?.includes('[touchdown] release step')) return 1;
  return Math.max(1, (JSON.parse(command[3] ?? '[]') as unknown[]).length);
}

/** A one-off task is provisioning, then running its commands, for its time in the table; then STOPPED. */
const oneOffTask: Rule = {
  after(call, answer, m) {
    if (call.service !== 'ecs' || !ok(answer)) return undefined;
    if (call.operation === 'RunTask') {
      const tasks = (JSON.parse(answer.body.toString('utf8')).tasks as EcsTask[] | undefined) ?? [];
      const seconds = ONE_OFF.start + ONE_OFF.command * commandsIn(call);
      for (const t of tasks) m.startFor('oneOffTask', t.taskArn, 'creating', seconds);
      return undefined;
    }
    if (call.operation !== 'DescribeTasks') return undefined;
    return editJson(answer, (body) => {
      let edited = false;
      for (const t of (body.tasks as EcsTask[] | undefined) ?? []) {
        if (!m.phase('oneOffTask', t.taskArn)) continue;
        edited = true;
        Object.assign(t, { lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
      }
      return edited;
    });
  },
};

const RULES: Rule[] = [
  targetGroups,
  oneOffTask,
  rdsInstance,
  elastiCache,
  cloudFront,
  loadBalancer,
  natGateway,
  route53,
  acm,
  ecsService,
  iamRole,
];
