// A stand-in for the `wx` object of a WeChat mini-program, for tests in Node. It is NOT the
// WeChat runtime: it follows WeChat's documented API for wx.connectSocket and SocketTask (send,
// close, onOpen, onMessage, onError, onClose), wx.onAppShow / wx.onNetworkStatusChange and the
// storage calls, and carries each SocketTask over a real WebSocket from the `ws` package. What
// it reproduces: the call shapes, listeners registered on the task, callbacks (success/fail)
// called asynchronously, onOpen before any onMessage, onError followed by onClose when a socket
// fails, send failing before open or after close, close accepting 1000 and 3000-4999 only,
// and the five-socket limit (a sixth connectSocket fails; the shim also records the peak so a
// test can assert it was never passed). What it cannot show: WeChat's TLS stack and
// certificate checks, domain whitelisting, background suspension, real network changes, or
// any undocumented behaviour of a base library version.
import WebSocket from 'ws';

export function createWxShim({ maxSockets = 5, ca } = {}) {
  const appShow = new Set();
  const network = new Set();
  const storage = new Map();
  const shim = {
    tasks: [],
    connectCalls: [],
    open: 0,
    peakOpen: 0,
    refusedConnects: 0,

    connectSocket(options) {
      shim.connectCalls.push(options);
      const task = new SocketTask();
      shim.tasks.push(task);
      const later = (f, ...args) => setImmediate(() => f?.(...args));
      if (typeof options?.url !== 'string' || !/^wss?:\/\//.test(options.url)) {
        later(options?.fail, { errMsg: 'connectSocket:fail invalid url' });
        return task;
      }
      if (shim.open >= maxSockets) {
        shim.refusedConnects += 1;
        later(options.fail, { errMsg: `connectSocket:fail exceed max task count (${maxSockets})` });
        return task;
      }
      shim.open += 1;
      shim.peakOpen = Math.max(shim.peakOpen, shim.open);
      task.release = () => { shim.open -= 1; };
      task.connect(options, ca);
      later(options.success, { errMsg: 'connectSocket:ok' });
      return task;
    },

    onAppShow: (f) => appShow.add(f),
    offAppShow: (f) => appShow.delete(f),
    onNetworkStatusChange: (f) => network.add(f),
    offNetworkStatusChange: (f) => network.delete(f),
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ''),
    setStorageSync: (key, value) => void storage.set(key, value),
    removeStorageSync: (key) => void storage.delete(key),

    // Test hooks: what the WeChat runtime would do.
    showApp: () => appShow.forEach((f) => f({ scene: 1001 })),
    changeNetwork: (isConnected) => network.forEach((f) => f({ isConnected, networkType: isConnected ? 'wifi' : 'none' })),
    listeners: () => ({ appShow: appShow.size, network: network.size }),
  };
  return shim;
}

class SocketTask {
  constructor() {
    this.listeners = { open: [], message: [], error: [], close: [] };
    this.readyState = 0; // CONNECTING
    this.events = []; // the order listeners were called in, for tests
    this.closeRequests = [];
  }

  connect(options, ca) {
    const ws = new WebSocket(options.url, options.protocols ?? [], {
      headers: options.header,
      perMessageDeflate: options.perMessageDeflate === true,
      ca,
      handshakeTimeout: options.timeout,
    });
    this.ws = ws;
    let responseHeader = {};
    ws.on('upgrade', (res) => {
      responseHeader = { ...res.headers };
    });
    ws.on('open', () => {
      this.readyState = 1;
      this.fire('open', { header: responseHeader, profile: {} });
    });
    ws.on('message', (data, isBinary) => {
      const value = isBinary ? new Uint8Array(data).buffer : data.toString('utf8');
      this.fire('message', { data: value });
    });
    ws.on('error', (error) => this.fire('error', { errMsg: `WebSocket error: ${error.message}` }));
    ws.on('close', (code, reason) => {
      this.readyState = 3;
      this.release?.();
      this.release = undefined;
      this.fire('close', { code, reason: reason.toString() });
    });
  }

  fire(name, res) {
    this.events.push(name);
    for (const listener of this.listeners[name]) listener(res);
  }

  onOpen(listener) { this.listeners.open.push(listener); }
  onMessage(listener) { this.listeners.message.push(listener); }
  onError(listener) { this.listeners.error.push(listener); }
  onClose(listener) { this.listeners.close.push(listener); }

  send({ data, success, fail, complete } = {}) {
    if (this.readyState !== 1 || !this.ws) {
      setImmediate(() => { fail?.({ errMsg: 'sendSocketMessage:fail WebSocket is not connected' }); complete?.(); });
      return;
    }
    this.ws.send(data, (error) => {
      if (error) fail?.({ errMsg: `sendSocketMessage:fail ${error.message}` });
      else success?.({ errMsg: 'sendSocketMessage:ok' });
      complete?.();
    });
  }

  close({ code = 1000, reason = '', success, fail, complete } = {}) {
    this.closeRequests.push({ code, reason });
    if (code !== 1000 && (code < 3000 || code > 4999)) {
      setImmediate(() => { fail?.({ errMsg: `closeSocket:fail invalid code ${code}` }); complete?.(); });
      return;
    }
    if (this.ws && this.readyState < 2) {
      this.readyState = 2;
      if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
      else this.ws.close(code, reason);
    }
    setImmediate(() => { success?.({ errMsg: 'closeSocket:ok' }); complete?.(); });
  }

  /** Test hook: the network under the socket goes away (no close frame). */
  breakNetwork() {
    this.ws?.terminate();
  }
}
