// The local copy of a stage: its own stack name, so nothing it does can touch what `deploy` made (even on a
// shared emulator), and its own folder for state, logs and the emulator's saved data.
import { dirname, join } from 'node:path';
import type { LoadedManifest } from '../config/load-manifest.js';

export interface LocalTarget {
  /** The manifest as the stage renders it, renamed for this machine. */
  loaded: LoadedManifest;
  /** `local`, or `<stage>-local` when a stage was asked for. */
  stage: string;
  /** `<app>-local`: the emulated resources' stack, the PostgreSQL database and role. */
  stack: string;
  /** The project folder (where touchdown.yml is). */
  projectDir: string;
  /** `.touchdown/local/<stack>`: state.json, logs/, saved/. */
  dir: string;
  /** The --stage the user asked for, carried into every command Touchdown suggests. */
  askedStage?: string;
}

/** A command to suggest for this stack: with the --stage in use (without it, it would act on another stack). */
export const suggest = (t: LocalTarget, command: string) =>
  t.askedStage ? `${command} --stage ${t.askedStage}` : command;

export function localTarget(loaded: LoadedManifest, explicitStage: boolean): LocalTarget {
  const stage = explicitStage ? `${loaded.stage}-local` : 'local';
  const stack = `${loaded.manifest.app}-${stage}`;
  const projectDir = dirname(loaded.path);
  return {
    loaded: { ...loaded, stage, stackName: stack },
    stage,
    stack,
    projectDir,
    dir: join(projectDir, '.touchdown', 'local', stack),
    ...(explicitStage ? { askedStage: loaded.stage } : {}),
  };
}

/** The Django project's folder: where manage.py is. */
export const djangoDir = (t: LocalTarget) => join(t.projectDir, t.loaded.manifest.django.project);

/** PostgreSQL names: the stack's name with underscores (no quoting needed by people typing psql). */
export const databaseName = (t: LocalTarget) => t.stack.replaceAll('-', '_');
