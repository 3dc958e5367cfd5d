// app.scale-up: the pilot light's application tier brought to the size that carries the full load
// (app_scaling: an Auto Scaling group in the DR region, SetDesiredCapacity, waited on until the
// instances are in service and healthy). Changes infrastructure: two-person approval.

import type { Action, ActionContext } from '../types.js';

function noScaling(context: ActionContext): string | null {
  if (context.providers.appScaling) return null;
  return `${context.service?.name ?? 'This run'} has no app_scaling: in lifeboat.yml, so its application tier is scaled by hand (or this step is skipped).`;
}

export const appScaleUp: Action = {
  name: 'app.scale-up',
  skipReason: noScaling,
  plan: (context) =>
    noScaling(context) ??
    `Scale ${context.providers.appScaling!.name} to ${context.providers.appScaling!.desired} instances (SetDesiredCapacity) and wait until all are in service and healthy.`,
  async run(context) {
    const scaling = context.providers.appScaling!;
    const result = await scaling.scaleUp(context.progress);
    return { summary: result.detail, details: { desired: scaling.desired } };
  },
  async verify(context, outcome) {
    const scaling = context.providers.appScaling!;
    const { desired, inService } = await scaling.state();
    const wanted = Number(outcome.details.desired);
    return inService >= wanted
      ? { ok: true, summary: `${scaling.name}: ${inService} in service (desired ${desired})` }
      : { ok: false, summary: `${scaling.name}: ${inService} in service, not ${wanted}` };
  },
};
