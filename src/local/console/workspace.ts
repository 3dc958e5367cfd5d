// The local console's Slack workspace: one channel, two people, and the bot. It answers the Web
// API methods the bot calls (chat.postMessage, chat.update, chat.postEphemeral, views.open,
// views.update, views.publish, usergroups.users.list, auth.test, and files.uploadV2's
// files.getUploadURLExternal and files.completeUploadExternal) the way Slack does, and keeps
// what they made — messages and threads, ephemeral messages, each person's open modal and App
// Home — for the console page to show. A method the bot should not call is an error, loudly.

import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Block, ModalView } from './block-html.js';
import type { Channel } from './slack-requests.js';

export const CHANNEL: Channel = { id: 'C0LOCAL', name: 'dr-ops' };
export const BOT = { userId: 'U0LIFEBOAT', botId: 'B0LIFEBOAT', name: 'lifeboat' } as const;

export interface Person {
  id: string;
  name: string;
  role: string;
}

export interface Message {
  ts: string;
  channel: string;
  /** A person's id, or the bot's. */
  from: string;
  text: string;
  blocks?: Block[];
  threadTs?: string;
  /** Set for an ephemeral message: only this person sees it. */
  onlyFor?: string;
  /** The command an ephemeral answer is the answer to. */
  inReplyTo?: string;
  edited?: boolean;
}

export interface OpenModal {
  id: string;
  hash: string;
  user: string;
  view: ModalView & { callback_id?: string; private_metadata?: string };
  /** Errors from the app's last `response_action: errors`, by block id. */
  errors: Record<string, string>;
}

export interface SavedWorkspace {
  messages: Message[];
  homes: [string, ModalView][];
  /** Uploaded files (charts), base64, by file id. */
  files?: [string, SavedFile][];
}

export interface SavedFile {
  filename: string;
  title: string;
  base64: string;
}

type ApiBody = Record<string, unknown>;
type ApiAnswer = Record<string, unknown> & { ok: boolean };

export class Workspace extends EventEmitter {
  readonly messages: Message[] = [];
  readonly modals = new Map<string, OpenModal>();
  readonly homes = new Map<string, ModalView>();
  /** Files the bot uploaded (files.uploadV2): reserved, then their bytes, then shared in a message. */
  readonly files = new Map<string, SavedFile & { bytes: Buffer | null }>();
  private readonly triggers = new Map<string, string>();
  private clock = Math.floor(Date.now() / 1000);
  private sequence = 0;
  version = 0;

  constructor(
    readonly people: readonly Person[],
    saved?: SavedWorkspace,
  ) {
    super();
    if (saved) {
      this.messages.push(...saved.messages);
      for (const [user, view] of saved.homes) this.homes.set(user, view);
      for (const [id, file] of saved.files ?? [])
        this.files.set(id, { ...file, bytes: Buffer.from(file.base64, 'base64') });
      const last = saved.messages.at(-1)?.ts.split('.');
      if (last) {
        this.clock = Number(last[0]);
        this.sequence = Number(last[1]);
      }
    }
  }

  /** What survives a restart: the channel and each App Home (not open modals or triggers). */
  save(): SavedWorkspace {
    return {
      messages: this.messages,
      homes: [...this.homes],
      files: [...this.files]
        .filter(([, file]) => file.bytes)
        .map(([id, file]) => [
          id,
          { filename: file.filename, title: file.title, base64: file.bytes!.toString('base64') },
        ]),
    };
  }

  /** A trigger id for something `user` just did; views.open with it opens their modal. */
  trigger(user: string): string {
    const id = `${Date.now()}.${++this.sequence}.trigger`;
    this.triggers.set(id, user);
    return id;
  }

  /** Slack's message ids: seconds since the epoch, a dot, a counter. Strictly increasing. */
  private nextTs(): string {
    this.clock = Math.max(this.clock, Math.floor(Date.now() / 1000));
    return `${this.clock}.${String(++this.sequence).padStart(6, '0')}`;
  }

  changed(): void {
    this.version += 1;
    this.emit('change', this.version);
  }

  /** What a person typed into the channel that is not a command. */
  say(user: string, text: string): Message {
    const message: Message = { ts: this.nextTs(), channel: CHANNEL.id, from: user, text };
    this.messages.push(message);
    this.changed();
    return message;
  }

  /** An answer only `user` sees (a command's reply, a refusal). */
  ephemeral(user: string, text: string, blocks?: Block[], inReplyTo?: string): Message {
    const message = this.addEphemeral(user, text, blocks, inReplyTo);
    this.changed();
    return message;
  }

  private addEphemeral(user: string, text: string, blocks?: Block[], inReplyTo?: string): Message {
    const message: Message = {
      ts: this.nextTs(),
      channel: CHANNEL.id,
      from: BOT.userId,
      text,
      onlyFor: user,
      ...(blocks ? { blocks } : {}),
      ...(inReplyTo ? { inReplyTo } : {}),
    };
    this.messages.push(message);
    return message;
  }

  closeModal(user: string): void {
    if (this.modals.delete(user)) this.changed();
  }

  /** A submission answered with `response_action: update`: the same modal shows the new view. */
  replaceModal(user: string, view: OpenModal['view']): void {
    const modal = this.modals.get(user);
    if (!modal) return;
    modal.view = view;
    modal.hash = `${Date.now()}.${++this.sequence}`;
    modal.errors = {};
    this.changed();
  }

  modalById(id: string): OpenModal | undefined {
    return [...this.modals.values()].find((modal) => modal.id === id);
  }

  /** The bytes the bot sent to a file's upload URL (the console serves them at /files/ID). */
  receiveFile(id: string, bytes: Buffer): boolean {
    const file = this.files.get(id);
    if (!file || file.bytes) return false;
    file.bytes = bytes;
    return true;
  }

  /** One Web API call from the bot. */
  api(method: string, body: ApiBody): ApiAnswer {
    const answer = this.answer(method, body);
    if (answer.ok && method !== 'auth.test' && method !== 'usergroups.users.list') this.changed();
    return answer;
  }

  private answer(method: string, body: ApiBody): ApiAnswer {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'http://localhost/',
          team: 'lifeboat local',
          team_id: 'T0LIFEBOAT',
          user: BOT.name,
          user_id: BOT.userId,
          bot_id: BOT.botId,
        };
      case 'chat.postMessage': {
        if (body.channel !== CHANNEL.id) return { ok: false, error: 'channel_not_found' };
        const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
        if (threadTs && !this.messages.some((m) => m.ts === threadTs && !m.onlyFor))
          return { ok: false, error: 'thread_not_found' };
        const message: Message = {
          ts: this.nextTs(),
          channel: CHANNEL.id,
          from: BOT.userId,
          text: str(body.text),
          ...(Array.isArray(body.blocks) ? { blocks: body.blocks as Block[] } : {}),
          ...(threadTs ? { threadTs } : {}),
        };
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts: message.ts, message: { ...body } };
      }
      case 'chat.update': {
        const message = this.messages.find(
          (m) => m.ts === body.ts && m.channel === body.channel && !m.onlyFor,
        );
        if (!message) return { ok: false, error: 'message_not_found' };
        if (message.from !== BOT.userId) return { ok: false, error: 'cant_update_message' };
        message.text = str(body.text) || message.text;
        if (Array.isArray(body.blocks)) message.blocks = body.blocks as Block[];
        message.edited = true;
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral': {
        const user = str(body.user);
        if (!this.people.some((p) => p.id === user)) return { ok: false, error: 'user_not_found' };
        const message = this.addEphemeral(
          user,
          str(body.text),
          Array.isArray(body.blocks) ? (body.blocks as Block[]) : undefined,
        );
        return { ok: true, message_ts: message.ts };
      }
      case 'views.open': {
        const user = this.triggers.get(str(body.trigger_id));
        if (!user) return { ok: false, error: 'invalid_trigger_id' };
        this.triggers.delete(str(body.trigger_id));
        const modal: OpenModal = {
          id: `V0${String(++this.sequence).padStart(8, '0')}`,
          hash: `${Date.now()}.${this.sequence}`,
          user,
          view: body.view as OpenModal['view'],
          errors: {},
        };
        this.modals.set(user, modal);
        return { ok: true, view: { ...modal.view, id: modal.id, hash: modal.hash } };
      }
      case 'views.update': {
        const modal = this.modalById(str(body.view_id));
        if (!modal) return { ok: false, error: 'not_found' };
        if (body.hash !== undefined && body.hash !== modal.hash)
          return { ok: false, error: 'hash_conflict' };
        modal.view = body.view as OpenModal['view'];
        modal.hash = `${Date.now()}.${++this.sequence}`;
        return { ok: true, view: { ...modal.view, id: modal.id, hash: modal.hash } };
      }
      case 'views.publish': {
        const user = str(body.user_id);
        if (!this.people.some((p) => p.id === user)) return { ok: false, error: 'user_not_found' };
        this.homes.set(user, body.view as ModalView);
        return { ok: true, view: { id: `VHOME${user}` } };
      }
      case 'usergroups.users.list':
        return { ok: true, users: [] };
      case 'files.getUploadURLExternal': {
        const id = `F0${String(++this.sequence).padStart(8, '0')}`;
        this.files.set(id, {
          filename: str(body.filename),
          title: str(body.filename),
          base64: '',
          bytes: null,
        });
        // The console's server completes this URL with its own address.
        return { ok: true, upload_url: `/files/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        if (body.channel_id !== undefined && body.channel_id !== CHANNEL.id)
          return { ok: false, error: 'channel_not_found' };
        const listed = (typeof body.files === 'string' ? JSON.parse(body.files) : body.files) as
          { id: string; title?: string }[] | undefined;
        const shared = (listed ?? []).flatMap((entry) => {
          const file = this.files.get(entry.id);
          if (!file?.bytes) return [];
          file.title = entry.title ?? file.title;
          return [{ id: entry.id, title: file.title }];
        });
        if (!shared.length) return { ok: false, error: 'file_not_found' };
        if (body.channel_id !== undefined)
          this.messages.push({
            ts: this.nextTs(),
            channel: CHANNEL.id,
            from: BOT.userId,
            text: shared.map((file) => file.title).join(', '),
            blocks: shared.map((file) => ({
              type: 'image',
              image_url: `/files/${file.id}`,
              alt_text: file.title,
              title: { type: 'plain_text', text: file.title },
            })),
          });
        return { ok: true, files: shared };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

/** A Web API request's method and arguments (form-encoded, JSON values decoded, or JSON). */
export async function readApiRequest(
  request: IncomingMessage,
): Promise<{ method: string; body: ApiBody }> {
  const raw = await readBody(request);
  const method = (request.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
  return { method, body: parseApiBody(raw, request.headers['content-type'] ?? '') };
}

export async function readBody(request: IncomingMessage, limit = 1024 * 1024): Promise<string> {
  return (await readBytes(request, limit)).toString('utf8');
}

function parseApiBody(raw: string, contentType: string): ApiBody {
  if (contentType.includes('application/json')) return JSON.parse(raw || '{}') as ApiBody;
  const form: ApiBody = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'view', 'attachments']) {
    if (typeof form[key] === 'string') form[key] = JSON.parse(form[key]);
  }
  return form;
}

/** A Web API argument as text: a string stays itself, anything else is empty. */
export function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The first part of a multipart/form-data body (how the Web API client sends an upload). */
export function fileOfMultipart(raw: Buffer, contentType: string): Buffer | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) return null;
  const marker = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = raw.indexOf(marker);
  const headersEnd = raw.indexOf('\r\n\r\n', start);
  const end = raw.indexOf(Buffer.from(`\r\n${marker.toString()}`), headersEnd);
  if (start < 0 || headersEnd < 0 || end < 0) return null;
  return raw.subarray(headersEnd + 4, end);
}

/** A request's body as bytes, at most `limit`. */
export function readBytes(request: IncomingMessage, limit = 8 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
