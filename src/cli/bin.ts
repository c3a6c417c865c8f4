// The touchdown command (the bundle's dist/cli.cjs): runs the command line, then exits with its code.
import { main } from './main.js';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
