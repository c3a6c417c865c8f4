// The TypeScript API platform engineers write stacks with, in the spirit of seed 000:
// aws.addVpc(...), vpc.addSubnet(...), aws.addBucket(...), aws.addRole(...).
import type { ArgsInput } from '../core/args.js';
import { type Handle, withOutputRefs } from '../core/resource.js';
import { Stack } from '../core/stack.js';
import { Vpc, type VpcOutputs } from './ec2/vpc.js';

export interface VpcHandle extends Handle<VpcOutputs> {}

export class AwsStack extends Stack {
  addVpc(args: ArgsInput<typeof Vpc.fields>): VpcHandle {
    return this.add(Vpc, args);
  }
}

export { withOutputRefs };
