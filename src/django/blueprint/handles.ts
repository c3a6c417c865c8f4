// Reading what exists through a handle: the outputs a plan or apply found for the resource it declares.
import type { World } from '../../core/plan.js';
import type { Found, Handle, Outputs } from '../../core/resource.js';

/** The outputs of the resource behind `handle` in `world`, typed; undefined when it does not exist (yet). */
export function outputsOf<O extends Outputs>(
  world: World,
  handle: Handle<O> | undefined,
): Partial<O> | undefined {
  return handle ? (world.outputs.get(handle.address) as Partial<O> | undefined) : undefined;
}

/** What the plan or apply found of the resource behind `handle`: its arguments and state as AWS reports them. */
export function foundOf(world: World, handle: Handle<Outputs> | undefined): Found | undefined {
  return handle ? world.found.get(handle.address)?.found : undefined;
}
