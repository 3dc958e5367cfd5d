// Names lifeboat.yml gives things that runbooks refer to, checked the same way on both sides
// (a module of its own: the runbook parser reads it without loading the config's schema).

/** A custom action's name in `actions:`, and how a runbook names it: `action: run restart-app`. */
export const CUSTOM_ACTION_NAME = /^[a-z0-9][a-z0-9-]*$/;
