// The console's Block Kit -> HTML renderer, on the blocks the bot really sends.

import { describe, expect, it } from 'vitest';
import {
  mrkdwnToHtml,
  renderBlocks,
  renderModal,
  type Block,
  type ModalView,
} from '../../src/local/console/block-html.js';
import { confirmationModal, reasonModal } from '../../src/slack/blocks/modals.js';
import {
  actions,
  button,
  context,
  divider,
  header,
  section,
  slackTime,
} from '../../src/slack/blocks/kit.js';
import { formatLocal } from '../../src/time.js';

describe('Block Kit to HTML', () => {
  it('renders a header, a mrkdwn section, a context, a divider and buttons', () => {
    const html = renderBlocks([
      header('FAILOVER · Regional failover'),
      section('*Status:* waiting for approval\n*Step 2/9:* Promote the DR replica'),
      context('run `r-1a2b` · started by <@U0ALICE>'),
      divider(),
      actions(
        button('Approve', 'approval-approve', 'a-1', 'primary'),
        button('Deny', 'approval-deny', 'a-1', 'danger'),
      ),
    ] as Block[]);
    expect(html).toContain('<div class="block header">FAILOVER · Regional failover</div>');
    expect(html).toContain(
      '<strong>Status:</strong> waiting for approval<br><strong>Step 2/9:</strong> Promote the DR replica',
    );
    expect(html).toContain(
      'run <code>r-1a2b</code> · started by <span class="mention">@U0ALICE</span>',
    );
    expect(html).toContain('<hr class="block divider">');
    expect(html).toContain(
      '<button class="button primary" data-action-id="approval-approve" data-value="a-1">Approve</button>',
    );
    expect(html).toContain(
      '<button class="button danger" data-action-id="approval-deny" data-value="a-1">Deny</button>',
    );
  });

  it('renders code blocks, links, emoji names, italics and strike-through', () => {
    expect(mrkdwnToHtml('```pg_restore --exit-on-error```')).toBe(
      '<pre>pg_restore --exit-on-error</pre>',
    );
    expect(mrkdwnToHtml('see <https://status.example.com|the status page>')).toBe(
      'see <a href="https://status.example.com" target="_blank" rel="noopener">the status page</a>',
    );
    expect(mrkdwnToHtml(':white_check_mark: _done_ ~late~ :party_parrot:')).toBe(
      '<span class="emoji" title=":white_check_mark:">\u2705</span> <em>done</em> <del>late</del> <span class="emoji" title=":party_parrot:">:party_parrot:</span>',
    );
  });

  it('shows a broadcast as Slack does, and an escaped one as plain text', () => {
    expect(mrkdwnToHtml('ping <!channel>')).toBe('ping <span class="mention">@channel</span>');
    expect(mrkdwnToHtml('said &lt;!channel&gt;')).toBe('said &lt;!channel&gt;');
  });

  it('never lets message text become markup', () => {
    const html = renderBlocks([
      section('note: <script>alert(1)</script> &lt;b&gt; "quoted"'),
      header('<img src=x onerror=alert(1)>'),
    ] as Block[]);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt; &quot;quoted&quot;');
  });

  it('renders the failover confirmation modal with its impact-time input', () => {
    const view = confirmationModal(
      { kind: 'failover', service: 'payments-db', runbook: 'failover' },
      ['3. Promote — Promote replica X.'],
      'lag 0.2 s — within the RPO (1m)',
      '{}',
    );
    const html = renderModal(view as unknown as ModalView);
    expect(html).toContain('<div class="modal-title">Fail over payments-db</div>');
    expect(html).toContain('<strong>Replication lag:</strong> lag 0.2 s — within the RPO (1m)');
    expect(html).toContain('<input type="text" name="impact-time" placeholder="03:12">');
    expect(html).toContain('<span class="optional">(optional)</span>');
    expect(html).toContain('<button type="submit" class="primary">Start failover</button>');
  });

  it('renders the reason modal with a multi-line input', () => {
    const html = renderModal(
      reasonModal('step-skip-reason', 'Skip step', 'Why skip it?', 'r-1:2') as unknown as ModalView,
    );
    expect(html).toContain('<textarea name="reason"></textarea>');
    expect(html).toContain('<span class="label">Why skip it?</span>');
  });

  it("shows Slack's <!date> in this machine's zone, named, and never as an emoji name", () => {
    const at = new Date('2026-11-24T03:12:05Z');
    const html = mrkdwnToHtml(
      `since ${slackTime(at)} · expires ${slackTime(at, 'time')} · <!date^${at.getTime() / 1000}^{time_secs}|x>`,
    );
    const [date, time, zone] = formatLocal(at).split(' ');
    expect(html).toBe(
      `since <time>${date} ${time!.slice(0, 5)} ${zone}</time> · expires <time>${time!.slice(0, 5)} ${zone}</time> · <time>${time} ${zone}</time>`,
    );
  });
});
