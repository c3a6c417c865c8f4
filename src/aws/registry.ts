// Every resource type Touchdown manages. Plans look for all of them, so that resources of a type
// no longer declared in a stack are still found and deleted.
import type { AnyResourceType } from '../core/resource.js';
import { Vpc } from './ec2/vpc.js';

export const resourceTypes: readonly AnyResourceType[] = [Vpc];
