// Where a command line reads and writes: the process's own streams, or, when a test runs the command inside its
// own process (test/support/cli.ts), streams of that run alone.
export const streams: {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  /** Messages the progress view has printed already (a failed deploy step): the final error does not repeat them. */
  shown: Set<string>;
} = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  shown: new Set(),
};
