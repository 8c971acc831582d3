// One channel subscription and its resume cursor {ep, off}. The cursor is the position of the
// last publication handed to the application; it survives reconnects (and, with a persistent
// CursorStorage, reloads) and is sent as `since` when the client subscribes again, so that
// publications are neither skipped nor handed over twice.

import { Emitter } from './emitter.js';
import { DisconnectedError, type ServerError } from './errors.js';
import type { JoinLeave, Publication, StreamPosition, SubscribeAnswer } from './protocol.js';
import type { CursorStorage } from './storage.js';

export type SubscriptionState = 'subscribing' | 'subscribed' | 'unsubscribed' | 'failed';

export interface SubscribedEvent {
  ch: string;
  ep: string;
  off: number;
  /** `since` was sent and the server said every publication after it follows */
  recovered: boolean;
  /**
   * `since` was sent and the server could not fill the gap (`rec: false`: another epoch, or no
   * history): reload the channel's state from the backend, then go on from here.
   */
  positionLost: boolean;
}

export interface UnsubscribedEvent {
  ch: string;
  /** 0 when the application unsubscribed; the `unsub` push's code when the server did */
  code: number;
  reason: string;
}

export interface SubscriptionEvents {
  publication: Publication;
  subscribed: SubscribedEvent;
  join: JoinLeave;
  leave: JoinLeave;
  error: ServerError;
  unsubscribed: UnsubscribedEvent;
}

/** What a Subscription needs from its client. */
export interface SubscriptionHost {
  unsubscribe(sub: Subscription): void;
  storage: CursorStorage;
  storageKey(ch: string): string;
  reportError(error: unknown): void;
}

export class Subscription extends Emitter<SubscriptionEvents> {
  readonly channel: string;
  private currentState: SubscriptionState = 'subscribing';
  private cursor: StreamPosition | undefined;
  // Publications that arrived before the subscribe answer (an earlier answer held back behind
  // a webhook lets pushes overtake it); replayed past the answer's offset.
  private early: Publication[] = [];
  private readyPromise: Promise<SubscribedEvent>;
  private settleReady!: { resolve(e: SubscribedEvent): void; reject(e: unknown): void } | undefined;

  constructor(channel: string, private readonly host: SubscriptionHost) {
    super((error) => host.reportError(error));
    this.channel = channel;
    this.cursor = loadCursor(host.storage, host.storageKey(channel));
    this.readyPromise = new Promise((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Nobody need await ready(); do not turn a failure into an unhandled rejection.
    this.readyPromise.catch(() => {});
  }

  get state(): SubscriptionState {
    return this.currentState;
  }

  /** The position of the last publication handed over, or undefined before the first answer. */
  position(): StreamPosition | undefined {
    return this.cursor ? { ...this.cursor } : undefined;
  }

  /**
   * Resolves at the first successful subscribe; rejects if the server refuses the channel, or if
   * it is unsubscribed first.
   */
  ready(): Promise<SubscribedEvent> {
    return this.readyPromise;
  }

  unsubscribe(): void {
    if (this.currentState === 'unsubscribed' || this.currentState === 'failed') return;
    this.host.unsubscribe(this);
  }

  // ---- called by the client ----

  /** The `since` to send, when there is a position to resume from. */
  since(): StreamPosition | undefined {
    return this.cursor ? { ep: this.cursor.ep, off: this.cursor.off } : undefined;
  }

  /** The connection ended: the next connection subscribes again from the cursor. */
  connectionLost(): void {
    if (this.currentState === 'subscribed') this.currentState = 'subscribing';
    this.early = [];
  }

  handleAnswer(answer: SubscribeAnswer, since: StreamPosition | undefined): void {
    if (this.currentState !== 'subscribing') return;
    const recovered = since !== undefined && answer.rec === true && since.ep === answer.ep;
    const pubs = Array.isArray(answer.pubs) ? answer.pubs : [];
    const base = recovered ? since.off : pubs.length > 0 ? pubs[0].off - 1 : answer.off;
    this.cursor = { ep: answer.ep, off: base };
    this.currentState = 'subscribed';
    const event: SubscribedEvent = {
      ch: this.channel,
      ep: answer.ep,
      off: answer.off,
      recovered,
      positionLost: since !== undefined && !recovered,
    };
    this.emit('subscribed', event);
    this.settleReady?.resolve(event);
    this.settleReady = undefined;
    for (const pub of pubs) this.deliver({ ch: this.channel, off: pub.off, data: pub.data, ts: pub.ts });
    // With `more`, missed publications go on arriving as pushes: the cursor stays at the last
    // one delivered. Otherwise the stream continues after the answer's offset.
    if (!answer.more && this.cursor.off < answer.off) this.cursor.off = answer.off;
    const early = this.early;
    this.early = [];
    for (const pub of early) this.deliver(pub);
    this.persist();
  }

  handlePublication(pub: Publication): void {
    if (this.currentState === 'subscribing') {
      this.early.push(pub);
      return;
    }
    if (this.currentState !== 'subscribed') return;
    this.deliver(pub);
    this.persist();
  }

  handleJoinLeave(kind: 'join' | 'leave', event: JoinLeave): void {
    if (this.currentState === 'subscribed') this.emit(kind, event);
  }

  /** The server refused the channel for good. */
  fail(error: ServerError): void {
    this.currentState = 'failed';
    this.emit('error', error);
    this.settleReady?.reject(error);
    this.settleReady = undefined;
  }

  /** A refusal that may pass (116, 111): reported; the client subscribes again later. */
  transientError(error: ServerError): void {
    this.emit('error', error);
  }

  ended(code: number, reason: string, forget: boolean): void {
    this.currentState = 'unsubscribed';
    this.early = [];
    if (forget) {
      try {
        this.host.storage.remove(this.host.storageKey(this.channel));
      } catch (error) {
        this.host.reportError(error);
      }
    }
    this.settleReady?.reject(new DisconnectedError('closed', code, `unsubscribed from ${this.channel}: ${reason}`));
    this.settleReady = undefined;
    this.emit('unsubscribed', { ch: this.channel, code, reason });
  }

  private deliver(pub: Publication): void {
    // Offsets grow by one per publication: anything at or before the cursor was handed over.
    if (this.cursor && pub.off <= this.cursor.off) return;
    if (this.cursor) this.cursor.off = pub.off;
    this.emit('publication', pub);
  }

  private persist(): void {
    if (!this.cursor) return;
    try {
      this.host.storage.set(this.host.storageKey(this.channel), JSON.stringify(this.cursor));
    } catch (error) {
      this.host.reportError(error);
    }
  }
}

function loadCursor(storage: CursorStorage, key: string): StreamPosition | undefined {
  try {
    const text = storage.get(key);
    if (!text) return undefined;
    const value = JSON.parse(text) as Partial<StreamPosition>;
    // `since` must be {ep: string, off: number}: anything else would close the connection.
    if (typeof value.ep === 'string' && Number.isSafeInteger(value.off) && (value.off as number) >= 0) {
      return { ep: value.ep, off: value.off as number };
    }
  } catch {
    // a damaged entry: start afresh
  }
  return undefined;
}
