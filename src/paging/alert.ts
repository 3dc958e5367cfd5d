// What lifeboat pages people about: one alert, triggered or resolved under a dedup key, so a
// repeat updates the incident it opened instead of opening another.

import type { PAGE_EVENTS } from '../config/schema.js';

export type PageEvent = (typeof PAGE_EVENTS)[number];

export interface PageAlert {
  /** Which subscription it belongs to (a target lists the events it wants). */
  event: PageEvent;
  /** A resolve reaches every target that could have received its trigger. */
  alsoFor?: PageEvent[];
  action: 'trigger' | 'resolve';
  dedupKey: string;
  severity: 'critical' | 'error' | 'warning' | 'info';
  /** One line of plain text (no Slack markup). */
  summary: string;
  service: string | null;
  runId: string | null;
  details: Record<string, string>;
}
