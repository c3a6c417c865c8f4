// Part 2 of the generated Dockerfiles' real builds (test/support/image-build.ts deals the layouts to the files).
import { imageBuilds } from './support/image-build.js';

imageBuilds(2);
