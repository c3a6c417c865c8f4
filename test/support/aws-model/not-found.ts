// "Not found" as AWS answers it where moto answers otherwise. A delete retried after its first answer was lost
// meets exactly these: the thing is gone, and AWS says so in its documented way.
import { randomUUID } from 'node:crypto';
import { answer, jsonError, queryError } from './faults.js';
import type { Answer, Call } from './operations.js';

const code = (a: Answer) => /<Code>([^<]+)<\/Code>|"__type":\s*"([^"]+)"/.exec(a.body.toString('utf8'));

export function asAwsAnswers(call: Call, got: Answer): Answer {
  if (got.status < 400) return got;
  const said = code(got);
  const errorCode = said?.[1] ?? said?.[2] ?? '';
  // moto fails with a KeyError (500); CloudFront answers 404 NoSuchOriginAccessControl.
  // https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteOriginAccessControl.html
  if (call.service === 'cloudfront' && call.operation === 'DeleteOriginAccessControl' && got.status === 500) {
    return queryError(
      404,
      'Sender',
      'NoSuchOriginAccessControl',
      'The origin access control does not exist.',
    );
  }
  // moto answers ValidationException; AWS "ObjectNotFoundException ... if the resource cannot be found".
  // https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScalingPolicy.html
  // https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html
  const gone = /No (scaling policy|scalable target) found/.exec(got.body.toString('utf8'));
  if (['DeleteScalingPolicy', 'DeregisterScalableTarget'].includes(call.operation) && gone) {
    return jsonError(call, 400, 'ObjectNotFoundException', `No ${gone[1]} found.`);
  }
  // moto removes a deleted gateway endpoint's route again and fails; EC2 reports each endpoint it cannot
  // delete in `unsuccessful`, without failing the call.
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpcEndpoints.html
  if (call.operation === 'DeleteVpcEndpoints' && errorCode === 'InvalidRoute.NotFound') {
    const id = call.form.get('VpcEndpointId.1') ?? '';
    return answer(
      200,
      'text/xml',
      `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomUUID()}</requestId><unsuccessful><item><error><code>InvalidVpcEndpoint.NotFound</code><message>The VPC endpoint '${id}' does not exist</message></error><resourceId>${id}</resourceId></item></unsuccessful></DeleteVpcEndpointsResponse>`,
    );
  }
  return got;
}
