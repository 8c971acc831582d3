// The WeChat mini-program transport: wx.connectSocket and its SocketTask. Allows wss:// only
// (mini-programs refuse anything else outside DevTools), keeps within the five sockets a
// mini-program may hold at once, passes `protocols`, `header` and `perMessageDeflate`, and
// watches wx.onAppShow / wx.onNetworkStatusChange. SocketTask has no ping API: the hub's JSON
// heartbeat ({"t":"ping"} / {"t":"pong"}) keeps the connection checked, and the client does it.

import { TransportError } from './errors.js';
import type { Transport, TransportConnection, TransportHandlers } from './transport.js';

/** The SocketTask methods the adapter uses, as WeChat documents them. */
export interface WxSocketTask {
  send(options: { data: string | ArrayBuffer; success?: () => void; fail?: (res: { errMsg: string }) => void }): void;
  close(options: { code?: number; reason?: string; success?: () => void; fail?: (res: { errMsg: string }) => void }): void;
  onOpen(listener: (res: { header?: Record<string, string>; profile?: unknown }) => void): void;
  onMessage(listener: (res: { data: string | ArrayBuffer }) => void): void;
  onError(listener: (res: { errMsg: string }) => void): void;
  onClose(listener: (res: { code: number; reason: string }) => void): void;
}

export interface WxConnectSocketOptions {
  url: string;
  header?: Record<string, string>;
  protocols?: string[];
  tcpNoDelay?: boolean;
  perMessageDeflate?: boolean;
  timeout?: number;
  success?: () => void;
  fail?: (res: { errMsg: string }) => void;
}

/** The parts of the `wx` object the adapter uses. */
export interface WxSocketApi {
  connectSocket(options: WxConnectSocketOptions): WxSocketTask;
  onAppShow?(listener: (res: unknown) => void): void;
  offAppShow?(listener: (res: unknown) => void): void;
  onNetworkStatusChange?(listener: (res: { isConnected: boolean; networkType: string }) => void): void;
  offNetworkStatusChange?(listener: (res: { isConnected: boolean; networkType: string }) => void): void;
}

export interface WxTransportOptions {
  /** extra handshake headers (WeChat sets Referer and User-Agent itself) */
  header?: Record<string, string>;
  /** ask for permessage-deflate (base library 2.8.0+); off by default */
  perMessageDeflate?: boolean;
  tcpNoDelay?: boolean;
  /** connectSocket's own timeout, ms */
  timeout?: number;
  /** sockets this mini-program may hold at once; WeChat allows 5 */
  maxSockets?: number;
  /**
   * Allow ws:// (WeChat DevTools with domain checks off, and tests). A released mini-program can
   * open wss:// to a whitelisted domain only, so this is off by default.
   */
  allowInsecure?: boolean;
  /** how long to wait for onClose after onError before reporting the close itself, ms */
  errorCloseGraceMs?: number;
}

/** WeChat's limit on sockets open at once in one mini-program. */
export const WX_MAX_SOCKETS = 5;

// Sockets this adapter holds per wx object, shared by every client made with it.
const openSockets = new WeakMap<object, number>();

export function wxTransport(wx: WxSocketApi, options: WxTransportOptions = {}): Transport {
  const maxSockets = options.maxSockets ?? WX_MAX_SOCKETS;
  const graceMs = options.errorCloseGraceMs ?? 1000;
  const held = () => openSockets.get(wx) ?? 0;
  return {
    name: 'wx',
    open(url: string, protocols: string[], handlers: TransportHandlers): TransportConnection {
      if (!/^wss:\/\//i.test(url) && !(options.allowInsecure && /^ws:\/\//i.test(url))) {
        throw new TransportError(
          `wshub: a mini-program connects to wss:// URLs only (got ${url}); ws:// needs allowInsecure (DevTools)`, true);
      }
      if (held() >= maxSockets) {
        throw new TransportError(
          `wshub: ${held()} sockets already open; a mini-program may hold ${maxSockets} at once`, false);
      }
      openSockets.set(wx, held() + 1);
      let closed = false;
      let released = false;
      let graceTimer: ReturnType<typeof setTimeout> | undefined;
      // The socket counts against the limit until WeChat reports it closed (or, when it never
      // does, for graceMs after the close was asked for).
      const release = () => {
        if (released) return;
        released = true;
        openSockets.set(wx, Math.max(0, held() - 1));
      };
      const finish = (code: number, reason: string) => {
        if (closed) return;
        closed = true;
        if (graceTimer !== undefined) clearTimeout(graceTimer);
        if (!released) setTimeout(release, graceMs);
        handlers.onClose(code, reason);
      };
      let task: WxSocketTask;
      try {
        task = wx.connectSocket({
          url,
          protocols,
          header: options.header,
          perMessageDeflate: options.perMessageDeflate ?? false,
          tcpNoDelay: options.tcpNoDelay,
          timeout: options.timeout,
          fail: (res) => {
            // connectSocket's fail: the task never opens; onError/onClose may or may not follow.
            Promise.resolve().then(() => {
              release();
              finish(1006, res?.errMsg ?? 'connectSocket failed');
            });
          },
        });
      } catch (error) {
        release();
        throw new TransportError(`wshub: wx.connectSocket threw: ${String(error)}`, false);
      }
      task.onOpen((res) => handlers.onOpen(headerValue(res?.header, 'sec-websocket-protocol')));
      task.onMessage((res) => {
        if (typeof res.data === 'string') handlers.onMessage(res.data);
      });
      // WeChat reports a failed or broken socket with onError and then, usually, onClose;
      // some base library versions skip the onClose, so the adapter reports 1006 itself.
      task.onError((res) => {
        if (closed || graceTimer !== undefined) return;
        graceTimer = setTimeout(() => finish(1006, res?.errMsg ?? 'socket error'), graceMs);
      });
      task.onClose((res) => {
        release();
        finish(res?.code ?? 1006, res?.reason ?? '');
      });
      return {
        send(text) {
          task.send({
            data: text,
            fail: (res) => {
              // A send that fails means the socket is gone; close it so the client reconnects.
              task.close({ code: 1000, reason: 'send failed' });
              finish(1006, res?.errMsg ?? 'send failed');
            },
          });
        },
        close(code, reason) {
          // WeChat accepts 1000 and 3000-4999 only.
          const allowed = code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000;
          task.close({ code: allowed, reason });
          finish(code, reason);
        },
      };
    },
    watchEnvironment(probe) {
      const onShow = () => probe('appShow');
      const onNetwork = (res: { isConnected: boolean }) => {
        if (res?.isConnected) probe('network');
      };
      wx.onAppShow?.(onShow);
      wx.onNetworkStatusChange?.(onNetwork);
      return () => {
        wx.offAppShow?.(onShow);
        wx.offNetworkStatusChange?.(onNetwork);
      };
    },
  };
}

/** How many sockets the adapter holds now for `wx` (for diagnostics and tests). */
export function wxSocketsOpen(wx: WxSocketApi): number {
  return openSockets.get(wx) ?? 0;
}

function headerValue(header: Record<string, string> | undefined, name: string): string {
  if (!header) return '';
  for (const key of Object.keys(header)) {
    if (key.toLowerCase() === name) return String(header[key]);
  }
  return '';
}
