// The operator's dashboard: one wshub connection (wss://THIS_HOST/hub, through nginx) with the
// backend's operator token, subscribed to dashboard:reports. Each report updates its terminal's
// row; a row's button sends {"t":"rpc","m":"command"} through wshub to the backend, which
// forwards the command to the terminal; the terminal's next report shows the effect.
'use strict';

const REPORTS = 'dashboard:reports';
const STALE_MS = 3000;
const rows = new Map();        // device -> {tr, cells, state, command}
const answers = new Map();     // request id -> {resolve, reject}
let hub = null;
let nextId = 1;
let retryDelay = 1000;

function setHubState(state, text) {
  const el = document.getElementById('hub');
  el.dataset.state = state;
  el.textContent = 'wshub: ' + text;
}

function request(message) {
  message.id = nextId++;
  return new Promise((resolve, reject) => {
    answers.set(message.id, { resolve, reject });
    hub.send(JSON.stringify(message));
  });
}

async function fetchToken() {
  const answer = await fetch('/token/dashboard', { method: 'POST' });
  if (!answer.ok) throw new Error('token: HTTP ' + answer.status);
  return answer.json();
}

async function open() {
  setHubState('connecting', 'connecting…');
  let token;
  try {
    token = await fetchToken();
  } catch (e) {
    return retryLater('no token (' + e.message + ')');
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(scheme + '//' + location.host + '/hub', 'wshub.v1.json');
  hub = socket;
  socket.onmessage = (event) => receive(JSON.parse(event.data));
  socket.onclose = (event) => closed(event);
  socket.onopen = async () => {
    try {
      // connect and subscribe in one request: `subs` lists the channels to join at once.
      const answer = await request({ t: 'connect', token: token.token, subs: { [REPORTS]: {} } });
      const sub = answer.subs && answer.subs[REPORTS];
      if (!sub || sub.err) throw new Error('not subscribed to ' + REPORTS + ': ' + JSON.stringify(sub && sub.err));
      retryDelay = 1000;
      setHubState('connected', 'connected as ' + answer.user + ' (' + answer.cid + '), subscribed to ' + REPORTS);
    } catch (e) {
      setHubState('closed', e.message);
    }
  };
}

function closed(event) {
  for (const pending of answers.values()) pending.reject(new Error('connection closed'));
  answers.clear();
  // 3000-3499: wshub asks the client to come back (restart, expired token, missed pong...);
  // 3500-3999: it should not (bad token, refused). 1006: the network or nginx went away.
  if (event.code >= 3500 && event.code < 4000) {
    setHubState('closed', 'closed ' + event.code + ' ' + event.reason + ' (not reconnecting)');
    return;
  }
  retryLater('closed ' + event.code + (event.reason ? ' ' + event.reason : ''));
}

function retryLater(why) {
  setHubState('closed', why + '; reconnecting in ' + Math.round(retryDelay / 1000) + ' s');
  setTimeout(open, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 15000);
}

function receive(message) {
  if (Array.isArray(message)) return message.forEach(receive);
  switch (message.t) {
    case 'ping':
      hub.send('{"t":"pong"}');
      break;
    case 'ok':
    case 'err': {
      const pending = answers.get(message.id);
      if (!pending) break;
      answers.delete(message.id);
      if (message.t === 'ok') pending.resolve(message);
      else pending.reject(Object.assign(new Error(message.msg), { code: message.code }));
      break;
    }
    case 'pub':
      if (message.ch === REPORTS) update(message.data);
      break;
    case 'disconnect':
      setHubState('closed', 'disconnected by wshub: ' + message.code + ' ' + message.reason);
      break;
  }
}

function cell(tr, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  tr.appendChild(td);
  return td;
}

function rowFor(device) {
  let row = rows.get(device);
  if (row) return row;
  const tr = document.createElement('tr');
  tr.dataset.device = device;
  const cells = {
    device: cell(tr), led: cell(tr), temperature: cell(tr, 'num'), uptime: cell(tr, 'num'),
    report: cell(tr, 'num'), hub: cell(tr), command: cell(tr, 'command'), action: cell(tr),
  };
  cells.device.textContent = device;
  const button = document.createElement('button');
  button.textContent = 'Toggle LED';
  button.onclick = () => sendCommand(device, 'toggle_led');
  cells.action.appendChild(button);
  row = { tr, cells, state: {}, command: null };
  rows.set(device, row);
  const body = document.getElementById('terminals');
  const after = [...rows.keys()].sort().indexOf(device);
  body.insertBefore(tr, body.children[after] || null);
  document.getElementById('empty').hidden = true;
  return row;
}

function update(data) {
  if (!data || typeof data.device !== 'string') return;
  const row = rowFor(data.device);
  Object.assign(row.state, data);
  row.seenAt = Date.now();
  const s = row.state;
  row.tr.dataset.led = String(Boolean(s.led));
  row.tr.dataset.seq = String(s.seq || 0);
  row.tr.dataset.lastCommand = s.last_command || '';
  row.tr.dataset.hubConnected = String(Boolean(s.hub_connected));
  row.tr.dataset.received = String(s.received_ms);
  row.cells.led.replaceChildren();
  const dot = document.createElement('span');
  dot.className = 'led' + (s.led ? ' on' : '');
  row.cells.led.append(dot, s.led ? 'on' : 'off');
  row.cells.temperature.textContent = s.temperature_c !== undefined ? s.temperature_c.toFixed(2) + ' °C' : '';
  row.cells.uptime.textContent = s.uptime_s !== undefined ? s.uptime_s + ' s' : '';
  row.cells.report.textContent = '#' + (s.seq || 0);
  row.cells.hub.textContent = data.notice ? data.notice : s.hub_connected ? 'connected' : 'not connected';
  showCommand(row);
  markStale();
}

// A command is applied when a report names it as the terminal's last one.
function showCommand(row) {
  const c = row.command;
  const s = row.state;
  if (c && c.status === 'queued' && s.last_command === c.id) {
    c.status = 'applied';
    c.text = c.id + ' applied: LED ' + (s.led ? 'on' : 'off') + ' (report #' + s.seq + ')';
  }
  row.cells.command.dataset.status = c ? c.status : '';
  row.cells.command.dataset.command = c && c.id ? c.id : '';
  row.cells.command.textContent = c ? c.text : '';
}

async function sendCommand(device, action) {
  const row = rows.get(device);
  row.command = { status: 'sending', text: 'sending ' + action + '…' };
  showCommand(row);
  try {
    const answer = await request({ t: 'rpc', m: 'command', data: { device, action } });
    row.command = { id: answer.data.command, status: 'queued', text: answer.data.command + ' queued' };
  } catch (e) {
    row.command = { status: 'refused', text: 'refused: ' + e.message + (e.code ? ' (' + e.code + ')' : '') };
  }
  showCommand(row);
}

function markStale() {
  const now = Date.now();
  for (const row of rows.values()) row.tr.dataset.stale = String(now - row.seenAt > STALE_MS);
}

setInterval(markStale, 1000);
open();
