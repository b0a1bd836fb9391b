// Clerk workstation: every action is one key or one click; the page reloads after each so
// what the clerk sees is always what the database says.
(function () {
  'use strict';
  var desk = document.getElementById('desk');
  if (!desk) return;
  var base = desk.dataset.base, csrf = desk.dataset.csrf;
  var errorBox = document.getElementById('desk-error');

  function showError(msg) { errorBox.textContent = msg; errorBox.hidden = false; }

  var noteBox = document.getElementById('desk-note');
  try {
    var note = sessionStorage.getItem('yichuang.desk.note');
    if (note && noteBox) { noteBox.textContent = note; noteBox.hidden = false; }
    sessionStorage.removeItem('yichuang.desk.note');
  } catch (e) { /* private mode */ }

  function act(name, body) {
    var path = base + '/' + name;
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      if (r.status === 204) { showError('当前没有人等候'); return; }
      if (r.ok && name === 'finish') {
        // An acceptance past the window's limit is recorded; say so after the reload.
        return r.json().then(function (a) {
          var t = a && a.ticket;
          if (t && t.overrun_minutes > 0) {
            try {
              sessionStorage.setItem('yichuang.desk.note', t.number + ' 号已办结，超过受理时限 ' +
                t.overrun_minutes + ' 分钟，已记入超时受理');
            } catch (e) { /* private mode */ }
          }
          location.reload();
        }, function () { location.reload(); });
      }
      if (r.ok) { location.reload(); return; }
      return r.json().then(function (e) { showError((e.error && e.error.message) || '操作失败'); },
                           function () { showError('操作失败（' + r.status + '）'); });
    }, function () { showError('网络连接中断，请稍后再试'); });
  }

  function run(button) {
    var name = button.dataset.act;
    if (name === 'call') {
      var number = button.dataset.number || document.getElementById('call-number').value.trim();
      if (!number) { showError('请先输入要呼叫的号码'); document.getElementById('call-number').focus(); return; }
      return act('call', { number: number });
    }
    if (name === 'transfer') {
      var to = document.getElementById('transfer-to').value.split(':');
      return act('transfer', to[0] === 'window' ? { window: to[1] } : { zone: to[1] });
    }
    if (name === 'hold') return act('hold', { kind: button.dataset.kind });
    return act(name);
  }

  // Finishing, a no-show and a transfer cannot be taken back: the first key or click asks,
  // the same key again (or 确认) within a few seconds acts, Esc or 取消 lets it be.
  var confirmBox = document.getElementById('desk-confirm');
  var pending = null;
  var current = (document.getElementById('current-number') || {}).textContent || '';
  function question(button) {
    var name = button.dataset.act;
    if (name === 'finish') return '确认办结 ' + current + '？';
    if (name === 'no-show') return '确认 ' + current + ' 过号？过号后须重新取号。';
    if (name === 'transfer') {
      var sel = document.getElementById('transfer-to');
      return '确认把 ' + current + ' 转到“' + sel.options[sel.selectedIndex].text + '”？';
    }
    return null;
  }
  function cancelPending() {
    if (pending) { clearTimeout(pending.timer); pending = null; }
    confirmBox.hidden = true;
  }
  function ask(button) {
    if (!button) return;
    var q = question(button);
    if (!q || !confirmBox) return run(button);
    if (pending && pending.button === button) { cancelPending(); return run(button); }
    cancelPending();
    document.getElementById('desk-confirm-text').textContent = q + '（再按一次或点“确认”）';
    confirmBox.hidden = false;
    pending = { button: button, timer: setTimeout(cancelPending, 6000) };
  }
  if (confirmBox) {
    document.getElementById('desk-confirm-yes').addEventListener('click', function (e) {
      e.preventDefault();
      var b = pending && pending.button;
      cancelPending();
      if (b) run(b);
    });
    document.getElementById('desk-confirm-no').addEventListener('click', function (e) {
      e.preventDefault();
      cancelPending();
    });
  }

  desk.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-act]');
    if (b) { e.preventDefault(); ask(b); }
  });

  var keys = { n: 'call-next', r: 'recall', s: 'start', f: 'finish', x: 'no-show', c: 'call', t: 'transfer' };
  var holds = { '1': 'away', '2': 'with_docs', '3': 'waiting' };
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = (e.target.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'select' || tag === 'textarea') {
      if (e.key === 'Enter' && e.target.id === 'call-number') { e.preventDefault(); act('call', { number: e.target.value.trim() }); }
      return;
    }
    if (e.key === 'Escape') { cancelPending(); return; }
    var k = e.key.toLowerCase();
    if (keys[k]) {
      e.preventDefault();
      if (k === 'c') { document.getElementById('call-number').focus(); return; }
      ask(desk.querySelector('button[data-act="' + keys[k] + '"]'));
    } else if (holds[k]) {
      e.preventDefault();
      act('hold', { kind: holds[k] });
    }
  });

  // The service timer: from start (or call), less time on hold; flags the acceptance limit.
  var cur = document.getElementById('current');
  var timer = document.getElementById('timer');
  if (cur && timer && cur.dataset.called) {
    var from = Number(cur.dataset.started) || Number(cur.dataset.called);
    var paused = Number(cur.dataset.paused) || 0;
    var limit = Number(cur.dataset.limit) * 60;
    var tick = function () {
      var secs = Math.max(0, Math.floor((Date.now() * 1000 - from - paused) / 1e6));
      var m = Math.floor(secs / 60), s = secs % 60;
      timer.textContent = (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
      document.getElementById('overrun').hidden = secs <= limit;
    };
    tick();
    setInterval(tick, 1000);
  }
})();
