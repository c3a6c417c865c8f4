import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import pc from 'picocolors';
import { ConfigError } from '../../core/errors.js';
import { detectProject, MissingWsgi, NotADjangoProject, UnsupportedPython } from '../../django/detect.js';
import { planInit } from '../../django/init.js';
import { confirm } from '../confirm.js';
import { streams } from '../streams.js';

/** Writes touchdown.yml, a Dockerfile and the settings snippet; never overwrites a file without asking. */
/** With --yes, also adds the settings line and missing requirements; without a terminal and --yes, only says what to add. */
export async function initCommand(options: {
  yes?: boolean;
  force?: boolean;
  dir?: string;
}): Promise<number> {
  const c = pc.createColors(pc.isColorSupported && streams.stdout.isTTY);
  const cwd = options.dir ?? process.cwd();
  let project: Awaited<ReturnType<typeof detectProject>>;
  try {
    project = await detectProject(cwd);
  } catch (err) {
    if (err instanceof NotADjangoProject || err instanceof UnsupportedPython || err instanceof MissingWsgi)
      throw new ConfigError(err.message);
    throw err;
  }
  const plan = await planInit(project);
  const out = (s: string) => streams.stdout.write(`${s}\n`);
  out(
    `Django project ${c.bold(project.settingsModule.split('.')[0]!)} in ${relative(cwd, project.root) || '.'}`,
  );
  const width = Math.max(...plan.found.map(([what]) => what.length));
  for (const [what, value, why] of plan.found) out(`  ${what.padEnd(width)}  ${value}  ${c.dim(`(${why})`)}`);
  out('');

  // Paths as the user sees them from where init runs (touchdown.yml may go below it, beside manage.py).
  const shown = (path: string) => relative(cwd, join(project.home, path));
  // Every file init changed, or would change with --yes: the summary ends with them.
  const changed: string[] = [];
  const pending: string[] = [];
  for (const file of plan.files) {
    const path = join(project.home, file.path);
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    if (existing === file.content) {
      out(`${c.dim('=')} ${shown(file.path)} is up to date`);
      continue;
    }
    if (existing !== undefined && !options.force) {
      const ok =
        streams.stdin.isTTY && !options.yes
          ? await confirm(`${shown(file.path)} exists. Replace it?`, {})
          : false;
      if (!ok) {
        out(
          `${c.yellow('!')} ${shown(file.path)} exists; left as it is${streams.stdin.isTTY ? '' : ' (pass --force to replace it)'}`,
        );
        pending.push(shown(file.path));
        continue;
      }
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    out(`${c.green('+')} ${shown(file.path)}: ${file.why}`);
    changed.push(shown(file.path));
  }

  const ask = async (question: string) =>
    options.yes || (streams.stdin.isTTY ? confirm(question, {}) : false);
  const settingsPath = join(project.home, plan.settingsFile);
  const settings = await readFile(settingsPath, 'utf8');
  if (!settings.includes('touchdown_settings')) {
    out('');
    out(`${plan.settingsFile} should end with:`);
    for (const line of plan.settingsLines) out(`    ${line}`);
    if (await ask(`Add it to ${plan.settingsFile}?`)) {
      await writeFile(settingsPath, `${settings.trimEnd()}\n\n${plan.settingsLines.join('\n')}\n`);
      out(`${c.green('~')} ${plan.settingsFile}: reads its settings from the environment last`);
      changed.push(shown(plan.settingsFile));
    } else pending.push(shown(plan.settingsFile));
  }
  let install: string | undefined;
  if (plan.missingRequirements.length > 0) {
    const target = plan.requirementsTarget;
    out('');
    out(`${project.declared.files.join(', ')} lack what the settings contract needs:`);
    for (const r of plan.missingRequirements) out(`    ${r}`);
    if (target && (await ask(`Add them to ${target}?`))) {
      const path = join(project.home, target);
      const text = await readFile(path, 'utf8');
      await writeFile(path, `${text.trimEnd()}\n${plan.missingRequirements.join('\n')}\n`);
      out(`${c.green('~')} ${target}: added ${plan.missingRequirements.join(', ')}`);
      changed.push(shown(target));
      install = `pip install -r ${target}`;
    } else if (target) {
      pending.push(shown(target));
    } else {
      // A lockfile is changed by its own tool; the generated Dockerfile installs them meanwhile.
      const quoted = plan.missingRequirements.map((r) => `"${r}"`).join(' ');
      install = {
        uv: `uv add ${quoted}`,
        poetry: `poetry add ${quoted}`,
        pdm: `pdm add ${quoted}`,
        pipenv: `pipenv install ${quoted}`,
        pip: `pip install ${quoted}`,
      }[project.declared.installer ?? 'pip'];
    }
  }
  if (await addToGitignore(project.home)) changed.push(shown('.gitignore'));

  if (plan.warnings.length) {
    out('');
    for (const w of plan.warnings) out(`${c.yellow('!')} ${w}`);
  }
  out('');
  out(`Changed: ${changed.length ? changed.join(', ') : 'nothing'}`);
  if (pending.length) out(`Would change (with --yes or --force): ${pending.join(', ')}`);
  if (install) out(`Install what was added into the app's virtualenv: ${c.bold(install)}`);
  const away = relative(cwd, project.home);
  out(
    `Then: ${away ? `${c.bold(`cd ${away}`)}, ` : ''}${c.bold('touchdown up')} to run it here, ${c.bold('touchdown deploy')} to put it on AWS.`,
  );
  return 0;
}

/** `.touchdown/` holds the local stack's secrets: keep it out of git. True when .gitignore changed. */
async function addToGitignore(root: string): Promise<boolean> {
  const path = join(root, '.gitignore');
  const text = (await readFile(path, 'utf8').catch(() => undefined)) ?? '';
  if (/^\/?\.touchdown\/?$/m.test(text)) return false;
  await writeFile(path, `${text}${text && !text.endsWith('\n') ? '\n' : ''}.touchdown/\n`);
  return true;
}
