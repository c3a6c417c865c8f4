// "Not found" as AWS answers it where moto fails instead: moto's delete of an origin access control it does not
// know raises a KeyError (HTTP 500), where CloudFront answers 404 NoSuchOriginAccessControl. A delete retried
// after its first answer was lost meets exactly that.
// https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteOriginAccessControl.html
import { queryError } from './faults.js';
import type { Answer, Call } from './operations.js';

export function asAwsAnswers(call: Call, answer: Answer): Answer {
  if (call.service === 'cloudfront' && call.operation === 'DeleteOriginAccessControl' && answer.status === 500) {
    return queryError(404, 'Sender', 'NoSuchOriginAccessControl', 'The origin access control does not exist.');
  }
  return answer;
}
