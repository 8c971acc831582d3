// The seam between the client and a WebSocket implementation. A transport opens one connection
// per call to `open`; the client owns reconnecting. Implementations: `websocketTransport` (the
// browser's WebSocket, Node's `ws`, Node 22's global WebSocket) and `wxTransport` (wx.ts).

import { TransportError } from './errors.js';

export interface TransportHandlers {
  onOpen(protocol: string): void;
  /** one text frame; the hub sends only text */
  onMessage(text: string): void;
  /** called exactly once per connection, also after `close()` and after a failed open */
  onClose(code: number, reason: string): void;
}

export interface TransportConnection {
  send(text: string): void;
  close(code: number, reason: string): void;
}

export interface Transport {
  readonly name: string;
  open(url: string, protocols: string[], handlers: TransportHandlers): TransportConnection;
  /**
   * Calls `probe` when the environment suggests the connection may have died or may work again
   * (the page or app came to the foreground, the network came back). Returns an unsubscribe.
   */
  watchEnvironment?(probe: (why: string) => void): () => void;
}

/** What the client needs of a WHATWG-style WebSocket (browsers, `ws`, Node 22+). */
export interface WebSocketLike {
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * A transport over a WebSocket constructor: the global one by default (browsers, Node 22+), or
 * one passed in (`import WebSocket from 'ws'`).
 */
export function websocketTransport(WebSocketImpl?: WebSocketConstructor): Transport {
  return {
    name: 'websocket',
    open(url, protocols, handlers) {
      const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!Impl) {
        throw new TransportError("wshub: no WebSocket here; in Node pass { WebSocket } from the 'ws' package", true);
      }
      let closed = false;
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        handlers.onClose(code, reason);
      };
      let socket: WebSocketLike;
      try {
        socket = new Impl(url, protocols);
      } catch (error) {
        // A malformed URL throws synchronously; report it as a failed connection.
        Promise.resolve().then(() => finish(1006, String(error)));
        return { send() {}, close() {} };
      }
      socket.onopen = () => handlers.onOpen(socket.protocol);
      socket.onmessage = (event) => {
        if (typeof event.data === 'string') handlers.onMessage(event.data);
      };
      socket.onclose = (event) => finish(event.code, event.reason);
      // Browsers follow an error with a close; so does ws. Nothing to do here.
      socket.onerror = () => {};
      return {
        send: (text) => socket.send(text),
        close: (code, reason) => {
          try {
            socket.close(code, reason);
          } catch {
            // already closing
          }
          // Some implementations never report the close of a socket that was still opening.
          finish(code, reason);
        },
      };
    },
    watchEnvironment(probe) {
      const g = globalThis as {
        addEventListener?: (name: string, f: () => void) => void;
        removeEventListener?: (name: string, f: () => void) => void;
        document?: { visibilityState?: string; addEventListener?: (n: string, f: () => void) => void; removeEventListener?: (n: string, f: () => void) => void };
      };
      if (typeof g.addEventListener !== 'function') return () => {};
      const online = () => probe('online');
      const visible = () => {
        if (g.document?.visibilityState === 'visible') probe('visible');
      };
      g.addEventListener('online', online);
      g.document?.addEventListener?.('visibilitychange', visible);
      return () => {
        g.removeEventListener?.('online', online);
        g.document?.removeEventListener?.('visibilitychange', visible);
      };
    },
  };
}
