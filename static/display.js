// Lobby display and the screen above a window. State is read from the API; the SSE stream
// says when to read it again and what to announce. EventSource reconnects by itself after a
// network or server restart, and every (re)connection re-reads the state.
(function () {
  'use strict';
  var body = document.body;
  var center = body.dataset.center;
  var windowCode = body.dataset.window || null;
  var params = new URLSearchParams(location.search);
  var voiceOn = params.get('voice') !== '0' && !windowCode;
  var volume = Math.min(1, Math.max(0, Number(params.get('volume') || '0.9')));

  function text(el, t) { el.textContent = t; return el; }
  function cell(tr, t) { tr.appendChild(text(document.createElement('td'), t)); }

  function render(s) {
    if (windowCode) {
      var mine = s.calls.filter(function (c) { return c.window === windowCode; })[0];
      text(document.getElementById('screen-number'), mine ? mine.ticket : '—');
      return;
    }
    var calls = document.querySelector('#calls tbody');
    calls.textContent = '';
    // Every current call stays on screen: past seven rows the list goes into two or three
    // columns with a smaller type (a county hall calls at twenty windows at once).
    var cols = s.calls.length <= 7 ? 1 : s.calls.length <= 14 ? 2 : 3;
    document.getElementById('calls').dataset.cols = String(cols);
    s.calls.forEach(function (c) {
      var tr = document.createElement('tr');
      tr.dataset.window = c.window;
      cell(tr, c.ticket); cell(tr, '请到 ' + c.window_name);
      calls.appendChild(tr);
    });
    // Zones where people wait (a county hall has a dozen and more; most are empty at times).
    var waiting = document.querySelector('#waiting tbody');
    waiting.textContent = '';
    var busy = s.waiting.filter(function (w) { return w.waiting > 0; });
    busy.forEach(function (w) {
      var tr = document.createElement('tr');
      cell(tr, w.zone_name); cell(tr, w.waiting + ' 人');
      waiting.appendChild(tr);
    });
    if (!busy.length) {
      var none = document.createElement('tr');
      none.className = 'none';
      cell(none, '当前无人等候');
      waiting.appendChild(none);
    }
    var recent = document.getElementById('recent');
    recent.textContent = '';
    s.recent.slice(0, 5).forEach(function (c) {
      recent.appendChild(text(document.createElement('li'), c.ticket + ' → ' + c.window_name));
    });
  }

  var pending = null;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      fetch('/api/v1/centers/' + center + '/display').then(function (r) { return r.json(); }).then(render, function () {});
    }, 50);
  }

  function announce(e) {
    if (windowCode && e.window !== windowCode) return;
    var box = document.getElementById('announce');
    if (box && e.say) {
      text(box, e.say); box.hidden = false;
      clearTimeout(box._t); box._t = setTimeout(function () { box.hidden = true; }, 8000);
    }
    if (voiceOn && e.say && window.YichuangVoice) {
      window.YichuangVoice.announce(e.say, { volume: volume, repeat: e.kind === 'recalled' ? 1 : 2 });
    }
  }

  var offline = document.getElementById('offline');
  function connect() {
    var es = new EventSource('/api/v1/centers/' + center + '/events');
    es.addEventListener('open', function () { if (offline) offline.hidden = true; refresh(); });
    es.addEventListener('error', function () { if (offline) offline.hidden = false; });
    ['called', 'recalled'].forEach(function (k) {
      es.addEventListener(k, function (m) { var e = JSON.parse(m.data); window.lastEvent = e; refresh(); announce(e); });
    });
    ['issued', 'started', 'finished', 'no_show', 'transferred', 'held', 'left', 'resync', 'hello'].forEach(function (k) {
      es.addEventListener(k, refresh);
    });
  }

  if (!windowCode) {
    var clock = document.getElementById('clock');
    // Beijing time, whatever the display computer's own time zone.
    var tick = function () {
      text(clock, new Date().toLocaleTimeString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' }));
    };
    tick(); setInterval(tick, 1000);
    var hours = function () {
      fetch('/centers/' + center + '/hours/today').then(function (r) { return r.text(); })
        .then(function (h) { document.getElementById('hours').innerHTML = h; }, function () {});
    };
    hours(); setInterval(hours, 600000);
    var unlock = document.getElementById('voice-unlock');
    if (!voiceOn) { unlock.hidden = true; }
    // Browsers start sound only after a click; the display remembers that it was switched on,
    // so after a reload it asks once more with the same button, and a click anywhere on the
    // screen (a remote or a mouse) does.
    var key = 'yichuang.voice.' + center;
    var enable = function () {
      if (window.YichuangVoice) { window.YichuangVoice.unlock(); window.YichuangVoice.setVolume(volume); }
      unlock.hidden = true;
      try { localStorage.setItem(key, 'on'); } catch (e) { /* private mode */ }
    };
    unlock.addEventListener('click', enable);
    var remembered = false;
    try { remembered = localStorage.getItem(key) === 'on'; } catch (e) { remembered = false; }
    if (voiceOn && remembered) {
      unlock.textContent = '语音播报已开启，点击屏幕任意处恢复';
      document.addEventListener('click', function once() {
        document.removeEventListener('click', once);
        enable();
      });
    }
  }
  refresh();
  connect();
})();
