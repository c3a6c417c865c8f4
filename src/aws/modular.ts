// An AWS service's client with the aggregated client's methods (`ec2.describeVpcs(input)`), built from the
// modular client and the commands Touchdown calls (src/aws/sdk/, generated): loading it compiles those
// commands only, where the aggregated client pulls in every command of the service.

// biome-ignore lint/suspicious/noExplicitAny: each command class takes its own input type.
type CommandClass = new (input: any) => unknown;

interface ModularClient {
  send(command: unknown, options?: unknown): Promise<unknown>;
}

/** Members a caller may probe that are not operations (a promise's resolution looks for `then`). */
const NOT_OPERATIONS = new Set(['then', 'toJSON', 'catch', 'finally']);

/**
 * `make(config)` returns the modular client, answering every operation of the aggregated client `T`: a listed
 * command directly, any other by loading the service's whole client once (slower, never wrong).
 */
export function modular<T>(
  Client: new (config: object) => ModularClient,
  commands: Record<string, CommandClass>,
  pkg: string,
): ((config: object) => T) & { commands: Record<string, CommandClass> } {
  let all: Promise<Record<string, unknown>> | undefined;
  const commandFor = async (name: string): Promise<CommandClass | undefined> => {
    const listed = commands[name];
    if (listed) return listed;
    // Named at run time, so a bundler leaves the whole client out of the bundle: Node loads it when needed.
    all ??= import(pkg) as Promise<Record<string, unknown>>;
    return (await all)[`${name}Command`] as CommandClass | undefined;
  };
  const make = (config: object) =>
    new Proxy(new Client(config), {
      get(target, prop, receiver) {
        if (typeof prop !== 'string' || prop in target || NOT_OPERATIONS.has(prop) || !/^[a-z]/.test(prop))
          return Reflect.get(target, prop, receiver);
        const name = prop[0]!.toUpperCase() + prop.slice(1);
        return async (input?: object, options?: object) => {
          const Command = await commandFor(name);
          if (!Command) throw new TypeError(`${Client.name}.${prop} is not an operation of this AWS service`);
          return target.send(new Command(input ?? {}), options);
        };
      },
    }) as T;
  return Object.assign(make, { commands });
}
