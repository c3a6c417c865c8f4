// IAM is eventually consistent: a role or instance profile made or changed a moment ago is refused for some
// seconds by the services that use it. One reading of those refusals, and one bounded retry of them.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
import type { OpContext } from '../../core/resource.js';
import { untilAccepted } from '../../core/wait.js';
import { errorCode } from '../errors.js';

/** How each service says a role or profile is not visible to it yet: error code, message, what to show. */
const NOT_VISIBLE_YET: [code: string, message: RegExp, state: string][] = [
  // Lambda CreateFunction / UpdateFunctionConfiguration.
  [
    'InvalidParameterValueException',
    /cannot be assumed by Lambda|does not have permissions to call CreateNetworkInterface/i,
    'role not assumable by Lambda yet',
  ],
  // Auto Scaling validates the launch template's profile: "Invalid IamInstanceProfile" / "iamInstanceProfile.arn is invalid".
  ['ValidationError', /IamInstanceProfile/i, 'instance profile not visible to Auto Scaling yet'],
  // EC2 RunInstances: "Value (...) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name".
  ['InvalidParameterValue', /iamInstanceProfile/i, 'instance profile not visible to EC2 yet'],
  // EventBridge Scheduler: "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."
  ['ValidationException', /execution role/i, 'role not assumable by EventBridge Scheduler yet'],
  // ECS: "Unable to assume the service linked role" / "Unable to assume role and validate the ... roleArn".
  ['InvalidParameterException', /unable to assume/i, 'role not assumable by ECS yet'],
  // CodeBuild CreateProject / UpdateProject: "CodeBuild is not authorized to perform: sts:AssumeRole on ...".
  [
    'InvalidInputException',
    /not authorized to perform:? sts:AssumeRole/i,
    'role not assumable by CodeBuild yet',
  ],
];

/** What a refusal says is not visible yet, when it is IAM propagation; undefined for any other error. */
export function iamNotVisibleYet(err: unknown): string | undefined {
  const code = errorCode(err);
  const message = (err as Error)?.message ?? '';
  return NOT_VISIBLE_YET.find(([c, m]) => c === code && m.test(message))?.[2];
}

/** Minutes, not seconds: IAM changes usually reach other services in seconds, rarely in a minute or two. */
const PROPAGATION_TIMEOUT_MS = 3 * 60_000;

/** Who uses the role: `Lambda function` "web", used by `Lambda`, which assumes it as `lambda.amazonaws.com`. */
export interface RoleUser {
  noun: string;
  service: string;
  principal: string;
  /** More to check than the trust policy. */
  also?: string;
}

/** Sends a call that uses a role or instance profile, again while IAM has not made it visible to the service yet. */
export function afterIamPropagation<T>(
  ctx: Pick<OpContext, 'wait' | 'path'>,
  user: RoleUser,
  call: () => Promise<T>,
): Promise<T> {
  return untilAccepted(ctx.wait.bind(ctx), {
    what: `the IAM role of ${user.noun} "${ctx.path}" to be usable by ${user.service}`,
    timeoutMs: PROPAGATION_TIMEOUT_MS,
    hint: `check that the role's trust policy lets ${user.principal} assume it${user.also ? ` (and ${user.also})` : ''}, then run the same command again`,
    call,
    passing: iamNotVisibleYet,
  });
}
