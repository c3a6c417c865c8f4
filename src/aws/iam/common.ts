// What the IAM resource files share: IAM's rules for names and paths.
import { z } from 'zod';

/** IAM's own naming rule for roles, instance profiles and inline policies. */
export const IAM_NAME = /^[\w+=,.@-]+$/;

/** An IAM path: `/` or `/a/b/`, printable ASCII between slashes. */
export const iamPath = () =>
  z
    .string()
    .max(512)
    .regex(/^\/([\x21-\x7e]*\/)?$/, 'an IAM path starts and ends with "/", like /apps/')
    .default('/');
