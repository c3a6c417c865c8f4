// The packages `up` checks for before migrate, asked of a real interpreter (the test virtualenv's).
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { venvPython } from '../../test/support/paths.js';
import { checkPackages } from './python.js';

const python = { path: venvPython, how: '--python', bin: dirname(venvPython) };

describe('checkPackages', () => {
  it('takes any module of a group, a dotted one too, and names only what is missing', async () => {
    await checkPackages(
      python,
      [{ modules: ['td_absent_module', 'json.decoder'], pip: 'x', why: 'a module in a package' }],
      process.cwd(),
    );
    await assert.rejects(
      checkPackages(
        python,
        [
          // kombu 5.5's SQS client, or pycurl before it: a package that is missing answers "missing", not a crash.
          {
            modules: ['td_absent_module', 'td_absent_package.urllib3_client'],
            pip: 'celery[sqs]',
            why: 'SQS',
          },
          { modules: ['json'], pip: 'json', why: 'present' },
        ],
        process.cwd(),
      ),
      /lacks celery\[sqs\] \(SQS\): install it with `.* -m pip install 'celery\[sqs\]'`/,
    );
  });
});
