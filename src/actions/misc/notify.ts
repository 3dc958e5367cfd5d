// notify: post the step's text to the run's thread (the engine emits it; adapters deliver it).

import type { Action } from '../types.js';

export const notify: Action = {
  name: 'notify',
  plan: (context) => `Post "${context.step.text}" to the run's thread.`,
  run(context) {
    context.notify(context.step.text);
    return Promise.resolve({
      summary: 'posted to the thread',
      details: { text: context.step.text },
    });
  },
};
