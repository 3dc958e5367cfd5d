// What one person sees in the console: everyone's messages, their own ephemeral ones, threads
// under their first message, mentions by name, their own modal.

import { describe, expect, it } from 'vitest';
import { viewFor } from '../../src/local/console/view.js';
import { Workspace, type SavedWorkspace } from '../../src/local/console/workspace.js';
import { section } from '../../src/slack/blocks/kit.js';

const people = [
  { id: 'U0ALICE', name: 'alice', role: 'on-call engineer' },
  { id: 'U0BOB', name: 'bob', role: 'approver' },
];

describe('the console view of one person', () => {
  it('shows ephemeral messages only to their person, and each thread under its parent', () => {
    const workspace = new Workspace(people);
    const header = workspace.api('chat.postMessage', {
      channel: 'C0LOCAL',
      text: 'FAILOVER',
      blocks: [section('*FAILOVER* started by <@U0ALICE>')],
    });
    workspace.say('U0BOB', 'on it');
    workspace.api('chat.postMessage', {
      channel: 'C0LOCAL',
      text: 'Step 1',
      thread_ts: header.ts,
    });
    workspace.ephemeral('U0ALICE', 'you cannot approve it', undefined, '/dr approve');
    // One change (one refresh of every open page) per message the bot posts.
    const before = workspace.version;
    workspace.api('chat.postEphemeral', { channel: 'C0LOCAL', user: 'U0BOB', text: 'only bob' });
    expect(workspace.version).toBe(before + 1);

    const alice = viewFor(workspace, 'U0ALICE').channel;
    const bob = viewFor(workspace, 'U0BOB').channel;
    expect(alice).toContain('you cannot approve it');
    expect(alice).toContain('Only visible to you · /dr approve');
    expect(bob).not.toContain('you cannot approve it');
    expect(alice).toContain('<span class="mention">@alice</span>');
    // The reply sits inside the header's thread, before bob's channel message.
    const thread = alice.indexOf('<div class="thread"><div class="thread-count">1 reply</div>');
    expect(thread).toBeGreaterThan(alice.indexOf('FAILOVER'));
    expect(alice.indexOf('Step 1')).toBeGreaterThan(thread);
    expect(alice.indexOf('Step 1')).toBeLessThan(alice.indexOf('on it'));
    expect(bob).toMatch(/<span class="author">bob<\/span>/);
  });

  it('shows a modal only to the person it was opened for, and survives a restart without it', () => {
    const workspace = new Workspace(people);
    workspace.api('views.open', {
      trigger_id: workspace.trigger('U0ALICE'),
      view: {
        type: 'modal',
        title: { type: 'plain_text', text: 'Fail over payments-db' },
        blocks: [],
      },
    });
    workspace.api('chat.postMessage', { channel: 'C0LOCAL', text: 'kept' });
    workspace.api('views.publish', {
      user_id: 'U0ALICE',
      view: { type: 'home', blocks: [section('last drill run by <@U0BOB>')] },
    });
    expect(viewFor(workspace, 'U0ALICE').home).toContain('<span class="mention">@bob</span>');
    expect(viewFor(workspace, 'U0ALICE').modal?.html).toContain('Fail over payments-db');
    expect(viewFor(workspace, 'U0BOB').modal).toBeNull();

    const restarted = new Workspace(
      people,
      JSON.parse(JSON.stringify(workspace.save())) as SavedWorkspace,
    );
    expect(viewFor(restarted, 'U0ALICE').channel).toContain('kept');
    expect(viewFor(restarted, 'U0ALICE').modal).toBeNull();
    const next = restarted.api('chat.postMessage', { channel: 'C0LOCAL', text: 'later' });
    expect(Number(next.ts)).toBeGreaterThan(Number(workspace.messages[0]!.ts));
  });
});
