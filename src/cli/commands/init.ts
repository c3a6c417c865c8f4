import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import pc from 'picocolors';
import { ConfigError } from '../../core/errors.js';
import { detectProject, NotADjangoProject } from '../../django/detect.js';
import { planInit } from '../../django/init.js';
import { confirm } from '../confirm.js';

/** Writes touchdown.yml, a Dockerfile and the settings snippet; never overwrites a file without asking. */
/** With --yes, also adds the settings line and missing requirements; without a terminal and --yes, only says what to add. */
export async function initCommand(options: {
  yes?: boolean;
  force?: boolean;
  dir?: string;
}): Promise<number> {
  const c = pc.createColors(pc.isColorSupported && process.stdout.isTTY);
  const cwd = options.dir ?? process.cwd();
  let project: Awaited<ReturnType<typeof detectProject>>;
  try {
    project = await detectProject(cwd);
  } catch (err) {
    if (err instanceof NotADjangoProject) throw new ConfigError(err.message);
    throw err;
  }
  const plan = await planInit(project);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(
    `Django project ${c.bold(project.settingsModule.split('.')[0]!)} in ${relative(cwd, project.root) || '.'}`,
  );
  out(`  settings ${project.settingsModule}, WSGI ${project.wsgi}, Python ${project.python}`);
  const found = Object.entries(project.uses)
    .filter(([, used]) => used)
    .map(([name]) => name);
  out(
    `  dependencies from ${project.requirementsFile ?? 'nowhere (no requirements.txt, pyproject.toml or Pipfile)'}${found.length ? `: uses ${found.join(', ')}` : ''}`,
  );
  out('');

  for (const file of plan.files) {
    const path = join(project.root, file.path);
    const existing = await readFile(path, 'utf8').catch(() => undefined);
    if (existing === file.content) {
      out(`${c.dim('=')} ${file.path} is up to date`);
      continue;
    }
    if (existing !== undefined && !options.force) {
      const ok =
        process.stdin.isTTY && !options.yes ? await confirm(`${file.path} exists. Replace it?`, {}) : false;
      if (!ok) {
        out(
          `${c.yellow('!')} ${file.path} exists; left as it is${process.stdin.isTTY ? '' : ' (pass --force to replace it)'}`,
        );
        continue;
      }
    }
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    out(`${c.green('+')} ${file.path}: ${file.why}`);
  }

  const ask = async (question: string) =>
    options.yes || (process.stdin.isTTY ? confirm(question, {}) : false);
  const settingsPath = join(project.root, plan.settingsFile);
  const settings = await readFile(settingsPath, 'utf8');
  if (!settings.includes('touchdown_settings')) {
    out('');
    out(`${plan.settingsFile} should end with:`);
    for (const line of plan.settingsLines) out(`    ${line}`);
    if (await ask(`Add it to ${plan.settingsFile}?`)) {
      await writeFile(settingsPath, `${settings.trimEnd()}\n\n${plan.settingsLines.join('\n')}\n`);
      out(`${c.green('~')} ${plan.settingsFile}: reads its settings from the environment last`);
    }
  }
  if (plan.missingRequirements.length > 0) {
    const file = project.requirementsFile!;
    out('');
    out(`${file} lacks what the settings contract needs:`);
    for (const r of plan.missingRequirements) out(`    ${r}`);
    if (file === 'requirements.txt' && (await ask(`Add them to ${file}?`))) {
      const path = join(project.root, file);
      const text = await readFile(path, 'utf8');
      await writeFile(path, `${text.trimEnd()}\n${plan.missingRequirements.join('\n')}\n`);
      out(`${c.green('~')} ${file}: added ${plan.missingRequirements.join(', ')}`);
    }
  }
  out('');
  out(`Then: ${c.bold('touchdown up')} to run it here, ${c.bold('touchdown deploy')} to put it on AWS.`);
  return 0;
}
