// The wshub admin page. It renders the state JSON of /admin/api/state and keeps it current:
// through the hub when it can (the JS SDK, embedded as /admin/assets/wshub.js, connects with a
// short-lived token from /admin/api/token and subscribes to $admin:stats, which the server
// publishes to once a second while someone watches), else by polling the state once a second.
(function () {
  'use strict';

  var previous = null;   // the last state shown, for rates
  var pollTimer = null;
  var client = null;

  function $(id) { return document.getElementById(id); }

  function request(path, body) {
    var options = { credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      options.method = 'POST';
      options.headers = { 'Content-Type': 'application/json' };
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var json = null;
        try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
        // The session ended (expired, or the server restarted): back to the login form.
        if (response.status === 401) location.reload();
        return { status: response.status, json: json, text: text };
      });
    });
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function badge(td, text, className) {
    td.textContent = '';
    var span = document.createElement('span');
    span.className = 'badge ' + (className || text);
    span.textContent = text;
    td.appendChild(span);
  }

  function fillTable(id, items, columns, emptyText) {
    var body = $(id).tBodies[0];
    var rows = document.createDocumentFragment();
    if (!items.length) {
      var empty = document.createElement('tr');
      empty.className = 'empty';
      var td = cell(empty, emptyText);
      td.colSpan = $(id).tHead.rows[0].cells.length;
      rows.appendChild(empty);
    }
    items.forEach(function (item) {
      var row = document.createElement('tr');
      columns(row, item);
      rows.appendChild(row);
    });
    body.replaceChildren(rows);
  }

  function perSecond(now, before, pick) {
    if (!before || now.ts <= before.ts) return '–';
    var value = (pick(now) - pick(before)) * 1000 / (now.ts - before.ts);
    return value < 10 ? value.toFixed(1) : String(Math.round(value));
  }

  function render(state) {
    var hub = state.hub || {};
    var server = state.server || {};
    $('connections').textContent = server.connections;
    $('hub-connected').textContent = hub.connected === undefined ? 'no hub' : hub.connected;
    $('subscriptions').textContent = hub.subscriptions === undefined ? '–' : hub.subscriptions;
    $('published').textContent = hub.published === undefined ? '–' : hub.published;
    var before = previous;
    var hubOf = function (s) { return s.hub || {}; };
    $('rate-in').textContent = perSecond(state, before, function (s) { return hubOf(s).messages_in || 0; });
    $('rate-out').textContent = perSecond(state, before, function (s) { return hubOf(s).messages_out || 0; });
    $('rate-published').textContent = ' ' + perSecond(state, before, function (s) { return hubOf(s).published || 0; }) + ' / s';
    previous = state;

    var rejected = state.rejected || { total: 0, last: [] };
    $('rejected-total').textContent = rejected.total;
    fillTable('rejected', rejected.last, function (row, r) {
      cell(row, new Date(r.time_ms).toLocaleTimeString());
      cell(row, r.peer);
      badge(cell(row, ''), r.reason, 'reason');
      cell(row, r.status || 'cut', 'num');
      cell(row, r.request);
      cell(row, r.sentence, 'sentence');
    }, 'No handshake was refused since the server started.');

    var channels = state.channels || [];
    $('channels-note').textContent = state.channels_more
      ? 'The ' + channels.length + ' busiest of the first ' + state.channels_total + ' channels found (there are more).'
      : state.channels_total > channels.length
        ? 'The ' + channels.length + ' busiest of ' + state.channels_total + ' channels.' : '';
    fillTable('channels', channels, function (row, c) {
      cell(row, c.channel);
      cell(row, c.subscribers, 'num');
      cell(row, c.offset, 'num');
      // Personal and $admin: channels have no namespace, so no presence to show.
      if (!c.presence) return cell(row, c.channel.charAt(0) === '$' ? '—' : 'off for this namespace', 'muted');
      var who = c.presence.map(function (p) { return (p.user || 'anonymous') + (p.device ? ' (' + p.device + ')' : ''); });
      cell(row, who.join(', ') + (c.presence_total > who.length ? ' … ' + c.presence_total + ' in all' : ''));
    }, state.hub ? 'No channel has subscribers.' : 'No hub is configured.');

    fillTable('webhooks', state.webhooks || [], function (row, w) {
      cell(row, w.endpoint);
      badge(cell(row, ''), w.breaker);
      cell(row, w.calls.ok, 'num');
      cell(row, w.failures, 'num');
      cell(row, w.retries, 'num');
      cell(row, w.in_flight, 'num');
      cell(row, w.queued, 'num');
    }, 'No [[webhook]] is configured.');

    var inbox = state.inbox || {};
    $('inbox').textContent = inbox.available
      ? inbox.pending + ' unacknowledged on ' + inbox.devices_with_pending + ' device(s); since start: ' +
        inbox.sent + ' sent, ' + inbox.delivered + ' delivered, ' + inbox.acked + ' acknowledged, ' +
        inbox.expired + ' expired.'
      : 'No device inbox: ' + inbox.note + '.';
  }

  function setMode(mode, why) {
    $('mode').textContent = mode;
    $('mode').className = 'badge ' + mode;
    $('mode-why').textContent = why || '';
  }

  function poll() {
    return request('/admin/api/state').then(function (r) { if (r.json) render(r.json); });
  }

  function startPolling(why) {
    setMode('polling', why);
    if (!pollTimer) pollTimer = setInterval(poll, 1000);
  }

  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  function startLive(live) {
    if (!live.available) return startPolling(live.why_not);
    if (typeof Wshub === 'undefined' || !Wshub.Client)
      return startPolling(window.WshubPlaceholder || 'the JS SDK did not load');
    var url = (live.tls ? 'wss://' : 'ws://') + location.hostname + ':' + live.port + live.path;
    client = new Wshub.Client(url, {
      getToken: function () {
        return request('/admin/api/token', {}).then(function (r) {
          if (r.status !== 200 || !r.json) throw new Error('no hub token: ' + r.text);
          return r.json.token;
        });
      },
      maxReconnectDelayMs: 5000,
    });
    client.on('state', function (e) {
      // Until the first statistics arrive, and whenever the hub is away, the page polls.
      if (e.state !== 'connected') startPolling('hub connection ' + e.state + ': ' + url);
    });
    client.subscribe(live.channel, function (pub) {
      stopPolling();
      setMode('live', 'through the hub at ' + url + ', channel ' + live.channel);
      render(pub.data);
    });
    client.connect();
  }

  function readJson(textarea, output) {
    try {
      return { ok: true, value: JSON.parse(textarea.value) };
    } catch (e) {
      output.className = 'error';
      output.textContent = 'Data is not JSON: ' + e.message;
      return { ok: false };
    }
  }

  function showAnswer(output, r) {
    output.className = r.status === 200 ? '' : 'error';
    output.textContent = r.status + ' ' + r.text.trim();
  }

  // A form whose submit posts {fieldName: its input, data: its JSON} to `path` and shows the
  // answer in its output.
  function wireJsonForm(prefix, field, path) {
    $(prefix + '-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var output = $(prefix + '-result');
      var data = readJson($(prefix + '-data'), output);
      if (!data.ok) return;
      var body = { data: data.value };
      body[field] = $(prefix + '-' + field).value;
      request(path, body).then(function (r) { showAnswer(output, r); });
    });
  }

  function wireForms() {
    wireJsonForm('publish', 'channel', '/admin/api/publish');
    wireJsonForm('send', 'user', '/admin/api/send');
  }

  wireForms();
  request('/admin/api/state').then(function (r) {
    if (!r.json) return startPolling('the state could not be read: ' + r.status);
    render(r.json);
    startLive(r.json.live || { available: false, why_not: 'no live section' });
  });
})();
