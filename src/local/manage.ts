// `touchdown manage --local <command>`: a management command once, against the stack `touchdown up` runs here,
// with the very environment its processes have (services, buckets, secrets from the local Parameter Store).
import { spawn } from 'node:child_process';
import { Engine } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import { localEnvironment, localResources } from './blueprint.js';
import { readState, runningStack } from './state.js';
import { djangoDir, type LocalTarget, suggest } from './target.js';
import { baseEnvironment } from './up.js';
import {
  closeServices,
  emulatorClients,
  findServices,
  LOCAL_TYPES,
  readSecrets,
  type ServiceOptions,
  wiringOf,
} from './wiring.js';

/** Runs `manage.py <args>` with the terminal attached (createsuperuser asks its questions); its exit code. */
export async function manageLocal(t: LocalTarget, args: string[], o: ServiceOptions): Promise<number> {
  const state = runningStack(await readState(t.dir));
  if (state?.status !== 'running' || !state.localAws || !state.python || !state.port) {
    throw new ConfigError(
      `${t.stack} does not run on this machine: start it with \`${suggest(t, 'touchdown up --detach')}\`, then run this again`,
    );
  }
  // The services as `up` found them (the flags and variables the user gives name the same ones).
  const found = await findServices(t, { ...o, python: state.python, localAws: state.localAws.endpoint });
  let env: NodeJS.ProcessEnv;
  try {
    const aws = emulatorClients(state.region, state.localAws.endpoint);
    const resources = localResources(t, aws.region, await aws.account());
    // Read, never changed: the stack that runs owns its resources.
    const { world } = await new Engine({
      stack: resources.stack,
      registry: LOCAL_TYPES,
      aws,
      events: () => {},
      signal: new AbortController().signal,
    }).plan();
    const secrets = await readSecrets(t, aws, resources.secrets);
    const wiring = wiringOf(t, found, aws.region, world, state.services.redis?.database, resources);
    env = {
      ...baseEnvironment(found, t.stack),
      ...localEnvironment(t, resources, { ...wiring, port: state.port }),
      ...secrets,
    };
  } finally {
    await closeServices(found);
  }
  const child = spawn(state.python, ['manage.py', ...args], { cwd: djangoDir(t), env, stdio: 'inherit' });
  return new Promise((resolve) => {
    child.once('error', () => resolve(127));
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
