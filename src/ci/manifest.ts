// The `ci:` section of touchdown.yml: which CI service deploys the stage, from which repository and branch.
// The blueprint turns it into the trust the pipeline needs (src/ci/trust.ts); `touchdown ci` writes it.
import { z } from 'zod';

export const CI_PROVIDERS = ['github', 'circleci', 'codebuild'] as const;
export type CiProvider = (typeof CI_PROVIDERS)[number];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ciSchema = z.strictObject({
  /** The CI service that deploys this stage: github (Actions), circleci or codebuild. */
  provider: z.enum(CI_PROVIDERS),
  /** The repository, owner/name, e.g. octo-org/blog. */
  repo: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'owner/name, like octo-org/blog, as in the GitHub URL'),
  /** The branch whose pushes deploy; only that branch's jobs may assume the deploy role. */
  branch: z
    .string()
    .regex(/^[A-Za-z0-9._/-]+$/, 'a branch name like main')
    .default('main'),
  /** CircleCI's organization and project IDs (Organization Settings, Project Settings > Overview). */
  circleci: z
    .strictObject({
      org: z.string().regex(UUID, 'the organization ID, a UUID from CircleCI Organization Settings'),
      project: z.string().regex(UUID, 'the project ID, a UUID from CircleCI Project Settings > Overview'),
    })
    .optional(),
  /**
   * How the pipeline installs Touchdown: an npm install spec, e.g. a git URL or the tarball of the release you
   * use. Not needed when the project's package.json lists touchdown (the pipeline runs `npm ci` then).
   */
  touchdown: z.string().min(1).optional(),
  /** The test command the pipeline runs before building (default: detected, else python manage.py test). */
  test: z.string().min(1).optional(),
});

export type CiSection = z.output<typeof ciSchema>;

/** What the rest of the manifest rules out for ci:, each with its fix. */
export function ciProblems(
  m: { ci?: CiSection; web: { compute: string } },
  problem: (path: (string | number)[], message: string) => void,
): void {
  if (!m.ci) return;
  if (m.ci.provider === 'circleci' && !m.ci.circleci) {
    problem(
      ['ci', 'circleci'],
      'CircleCI trusts by organization and project: add circleci: { org: <organization ID>, project: <project ID> } (CircleCI Organization Settings and Project Settings > Overview)',
    );
  }
  if (m.ci.provider !== 'circleci' && m.ci.circleci) {
    problem(['ci', 'circleci'], `only used with provider: circleci; remove it for ${m.ci.provider}`);
  }
  if (m.web.compute === 'lambda') {
    problem(
      ['ci'],
      'web.compute lambda deploys a zip built by touchdown deploy, not an image: run touchdown deploy in your CI job with its own credentials, or use fargate or ec2',
    );
  }
}
