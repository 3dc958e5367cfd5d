// What a person does on the console page — type a command or a message, click a button, submit or
// close a modal, open App Home, and the infrastructure panel's controls — each sent to the real
// Bolt app as Slack would send it, the app's answer shown as Slack would show it.

import type { Block } from './block-html.js';
import { HttpError, parseJson } from './http.js';
import type { ResponseUrls } from './response-urls.js';
import {
  appHomeOpenedBody,
  buttonClickBody,
  slashCommandBody,
  viewSubmissionBody,
} from './slack-requests.js';
import { CHANNEL, str, type Workspace } from './workspace.js';

export interface ConsoleControls {
  /** What the infrastructure panel shows (JSON). */
  infra(): unknown;
  /** Kills the primary; resolves to a sentence for the page. */
  disaster(): Promise<string>;
  /** Rebuilds the pair; resolves to a sentence for the page. */
  restore(): Promise<string>;
  /** After a failover: the dead primary rebuilt as a standby of the promoted one (for a failback). */
  rebuildOldPrimary(): Promise<string>;
  partition(): Promise<string>;
  /** A pg_dump of whichever server takes writes into the store, as a backup job would. */
  backup(): Promise<string>;
  /** The demo application's health, for the service's health check. */
  healthy(): boolean;
}

/** The app's answer to a request sent as Slack, or what Slack would say instead. */
export type AppAnswer = { ok: true; text: string } | { ok: false; error: string };

export interface PageActionDeps {
  workspace: Workspace;
  controls: ConsoleControls;
  responseUrls: ResponseUrls;
  /** Sends a signed request to the app as Slack does. */
  toApp: (body: string, contentType?: string) => Promise<AppAnswer>;
}

export type PageAction = (input: Record<string, unknown>) => Promise<unknown>;

/** The id of one of the workspace's people; else HTTP 400. */
export function knownPerson(workspace: Workspace, id: unknown): string {
  const found = workspace.people.find((p) => p.id === id);
  if (!found) throw new HttpError(400, `unknown person ${JSON.stringify(id)}`);
  return found.id;
}

/** The page's POST /console/NAME actions, by NAME. */
export function pageActions(deps: PageActionDeps): Record<string, PageAction> {
  const { workspace, controls, responseUrls, toApp } = deps;
  const person = (id: unknown) => knownPerson(workspace, id);

  return {
    async command(input) {
      const as = person(input.as);
      const text = str(input.text).trim();
      if (!text) return {};
      if (!text.startsWith('/')) {
        workspace.say(as, text);
        return {};
      }
      const [command = '', ...rest] = text.split(/\s+/);
      if (command !== '/dr') {
        workspace.ephemeral(
          as,
          `\`${command}\` is not a valid command. This console knows \`/dr\`.`,
        );
        return {};
      }
      const answer = await toApp(
        slashCommandBody({
          text: rest.join(' '),
          user: as,
          channel: CHANNEL,
          responseUrl: responseUrls.create(as, text),
          triggerId: workspace.trigger(as),
        }),
      );
      if (!answer.ok) {
        workspace.ephemeral(as, `\`/dr\` failed with the error "${answer.error}"`, undefined, text);
      } else if (answer.text) {
        const reply = parseJson(answer.text) as { text?: string; blocks?: Block[] } | null;
        workspace.ephemeral(as, reply?.text ?? answer.text, reply?.blocks, text);
      }
      return {};
    },
    async click(input) {
      const as = person(input.as);
      const answer = await toApp(
        buttonClickBody({
          actionId: str(input.actionId),
          value: str(input.value),
          user: as,
          channel: CHANNEL,
          messageTs: str(input.messageTs),
          responseUrl: responseUrls.create(as),
          triggerId: workspace.trigger(as),
        }),
      );
      if (!answer.ok) workspace.ephemeral(as, `That did not work: "${answer.error}"`);
      return {};
    },
    async submit(input) {
      const as = person(input.as);
      const modal = workspace.modals.get(as);
      if (!modal || modal.id !== input.viewId) return { closed: true };
      const values = (input.values ?? {}) as Record<string, string>;
      const answer = await toApp(
        viewSubmissionBody({
          viewId: modal.id,
          callbackId: modal.view.callback_id ?? '',
          privateMetadata: modal.view.private_metadata ?? '',
          values,
          user: as,
          triggerId: workspace.trigger(as),
        }),
      );
      if (!answer.ok) {
        modal.errors = { '': `We had some trouble connecting: ${answer.error}` };
        workspace.changed();
        return {};
      }
      const reply = parseJson(answer.text) as {
        response_action?: string;
        errors?: Record<string, string>;
        view?: typeof modal.view;
      } | null;
      if (reply?.response_action === 'errors') {
        modal.errors = reply.errors ?? {};
        workspace.changed();
        return {};
      }
      if (reply?.response_action === 'update' && reply.view) {
        workspace.replaceModal(as, reply.view);
        return {};
      }
      workspace.closeModal(as);
      return { closed: true };
    },
    close(input) {
      workspace.closeModal(person(input.as));
      return Promise.resolve({});
    },
    async home(input) {
      const as = person(input.as);
      const answer = await toApp(appHomeOpenedBody(as, `Ev${Date.now()}`), 'application/json');
      return answer.ok ? {} : { error: answer.error };
    },
    async disaster() {
      return { said: await controls.disaster() };
    },
    async restore() {
      return { said: await controls.restore() };
    },
    async backup() {
      return { said: await controls.backup() };
    },
    async 'rebuild-old-primary'() {
      return { said: await controls.rebuildOldPrimary() };
    },
    async partition() {
      return { said: await controls.partition() };
    },
  };
}
