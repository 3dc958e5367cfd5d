// Whether a service uses AWS at all, and where to ask it who lifeboat is: a module of its own, so
// `lifeboat status` (which only says whether to show the AWS lines) loads none of the live checks.

import type { Service } from '../config.js';

export const usesAws = (service: Service): boolean => awsRegionOf(service) !== null;

/** A region to ask STS in, when the service uses AWS at all: the DR side's, which must work. */
export function awsRegionOf(service: Service): string | null {
  if (service.database.provider !== 'postgres') return service.database.replica.region;
  if (service.dns && service.dns.mode !== 'routing-control') return 'us-east-1';
  if (service.dns) return service.dns.cluster_endpoints[0]!.region;
  if (service.backups && !service.backups.endpoint) return service.backups.region ?? 'us-east-1';
  return null;
}
