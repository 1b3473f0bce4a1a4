/** Helpers of the tests that run the real Distribution (distribution, mirror and image tests). */
import { execFileSync } from 'node:child_process';

/** The docker-registry binary, when it is installed (WHARF_DOCKER_REGISTRY, else Debian's path). */
export function registryBinary(): string | undefined {
  for (const path of [process.env.WHARF_DOCKER_REGISTRY, '/usr/bin/docker-registry'].filter((p): p is string => !!p)) {
    try {
      execFileSync(path, ['--version'], { stdio: 'ignore' });
      return path;
    } catch {
      /* look further */
    }
  }
  return undefined;
}

export { freePort } from '@wharf/store/testing';
