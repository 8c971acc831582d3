// The device inbox (a device's connection, SQLite store): `msg` pushes in `seq` order (a seq may
// be skipped: expired or replaced before it was pushed), handed to one handler in seq order,
// acknowledged with `ack {upto}` only after the handler's promise
// resolves, and deduplicated by `seq` (redelivery after ack_timeout or a reconnect) and by `id`
// (after the inbox's epoch changed). The acked position is persisted and sent at `connect`.

import type { InboxMessage } from './protocol.js';
import type { CursorStorage } from './storage.js';

export type InboxHandler = (message: InboxMessage) => unknown | Promise<unknown>;

/** The handler threw or rejected: the message is not acked and will come again. */
export interface InboxError {
  message: InboxMessage;
  error: unknown;
}

/** What the inbox needs from its client. */
export interface InboxHost {
  /** sends `ack {upto}` when connected; false when it could not be sent */
  sendAck(upto: number): boolean;
  storage: CursorStorage;
  storageKey: string;
  reportError(error: unknown): void;
}

interface InboxCursor {
  ep?: string;
  acked: number;
  /** ids handled lately, newest last: redelivery under a new epoch is recognised by id */
  ids: string[];
}

/** How many handled message ids are remembered for deduplication across epochs. */
const REMEMBERED_IDS = 256;

export class Inbox {
  private handler: InboxHandler | undefined;
  private cursor: InboxCursor;
  private queue: InboxMessage[] = [];
  private running: InboxMessage | undefined;
  // The seq whose handler failed, until it comes again: later messages are not handed over
  // meanwhile, since acking one of them would acknowledge the failed one too.
  private failedSeq: number | undefined;

  private errorListeners: Array<(event: InboxError) => void> = [];

  constructor(private readonly host: InboxHost) {
    this.cursor = loadCursor(host.storage, host.storageKey);
  }

  /** Sets the handler (one per client; a second call replaces it). Returns a remover. */
  on(handler: InboxHandler): () => void {
    this.handler = handler;
    this.pump();
    return () => {
      if (this.handler === handler) this.handler = undefined;
    };
  }

  /** Listens for handler failures (else they go to the client's 'error' event). */
  onError(listener: (event: InboxError) => void): () => void {
    this.errorListeners.push(listener);
    return () => {
      this.errorListeners = this.errorListeners.filter((l) => l !== listener);
    };
  }

  /** The last seq acknowledged, and the inbox epoch it belongs to. */
  position(): { ep?: string; acked: number } {
    return { ep: this.cursor.ep, acked: this.cursor.acked };
  }

  // ---- called by the client ----

  /** The `inbox` field of `connect`: `{}` the first time, then `{ep, acked}`. */
  connectField(): { ep?: string; acked?: number } {
    return this.cursor.ep === undefined ? {} : { ep: this.cursor.ep, acked: this.cursor.acked };
  }

  /** The `connect` answer's `inbox` (absent in builds without the store). */
  connected(inbox: { ep: string } | undefined): void {
    if (!inbox || typeof inbox.ep !== 'string' || inbox.ep === this.cursor.ep) return;
    // Another epoch: its seqs start afresh; ids tell what was already handled.
    this.cursor = { ep: inbox.ep, acked: 0, ids: this.cursor.ids };
    this.persist();
  }

  /** The connection ended: queued messages come again on the next connect. */
  connectionLost(): void {
    this.queue = [];
    this.failedSeq = undefined;
  }

  handleMessage(message: InboxMessage): void {
    if (!Number.isSafeInteger(message.seq)) return;
    if (message.seq <= this.cursor.acked) {
      // Handled and acked already: our ack may have been lost, so say it again.
      this.host.sendAck(this.cursor.acked);
      return;
    }
    if (this.failedSeq !== undefined) {
      if (message.seq > this.failedSeq) return; // comes again after the failed one
      this.failedSeq = undefined;
    }
    if (this.running?.seq === message.seq || this.queue.some((m) => m.seq === message.seq)) return;
    if (typeof message.id === 'string' && this.cursor.ids.includes(message.id)) {
      this.acked(message);
      return;
    }
    this.queue.push(message);
    this.queue.sort((a, b) => a.seq - b.seq);
    this.pump();
  }

  private pump(): void {
    if (this.running || !this.handler) return;
    const message = this.queue.shift();
    if (!message) return;
    this.running = message;
    const epoch = this.cursor.ep;
    const handler = this.handler;
    let result: unknown;
    try {
      result = handler(message);
    } catch (error) {
      this.failed(message, error);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.running = undefined;
        // Handled: ack it, unless the inbox changed epoch meanwhile (its seq means nothing
        // there); its id still marks it handled.
        if (epoch === this.cursor.ep) this.acked(message);
        else this.remember(message);
        this.pump();
      },
      (error) => this.failed(message, error),
    );
  }

  private failed(message: InboxMessage, error: unknown): void {
    this.running = undefined;
    // Acks are cumulative: nothing after an unhandled message may be acked. Drop what waits, and
    // what arrives before it comes again; the server sends it again (after ack_timeout, or at
    // the next connect).
    this.queue = [];
    this.failedSeq = message.seq;
    const event = { message, error };
    if (this.errorListeners.length === 0) this.host.reportError(event);
    for (const listener of this.errorListeners.slice()) {
      try {
        listener(event);
      } catch (thrown) {
        this.host.reportError(thrown);
      }
    }
  }

  private acked(message: InboxMessage): void {
    if (message.seq > this.cursor.acked) this.cursor.acked = message.seq;
    this.remember(message);
    this.host.sendAck(this.cursor.acked);
  }

  private remember(message: InboxMessage): void {
    if (typeof message.id === 'string' && !this.cursor.ids.includes(message.id)) {
      this.cursor.ids.push(message.id);
      if (this.cursor.ids.length > REMEMBERED_IDS) this.cursor.ids.splice(0, this.cursor.ids.length - REMEMBERED_IDS);
    }
    this.persist();
  }

  private persist(): void {
    try {
      this.host.storage.set(this.host.storageKey, JSON.stringify(this.cursor));
    } catch (error) {
      this.host.reportError(error);
    }
  }
}

function loadCursor(storage: CursorStorage, key: string): InboxCursor {
  try {
    const text = storage.get(key);
    if (text) {
      const value = JSON.parse(text) as Partial<InboxCursor>;
      if (Number.isSafeInteger(value.acked) && (value.acked as number) >= 0) {
        return {
          ep: typeof value.ep === 'string' ? value.ep : undefined,
          acked: value.acked as number,
          ids: Array.isArray(value.ids) ? value.ids.filter((id) => typeof id === 'string').slice(-REMEMBERED_IDS) : [],
        };
      }
    }
  } catch {
    // a damaged entry: start afresh
  }
  return { acked: 0, ids: [] };
}
