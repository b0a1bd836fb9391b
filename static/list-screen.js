// The lists on a lobby screen: every non-empty section of the center's 延时错时规定目录,
// 自选目录 and 预约服务目录, a screenful at a time, turning every `?seconds=` (default 12).
// The counts are read again after each round, so an edited catalogue shows up by itself.
(function () {
  'use strict';
  var center = document.body.dataset.center;
  var params = new URLSearchParams(location.search);
  var seconds = Math.max(3, Number(params.get('seconds') || '12'));
  var perPage = Math.max(3, Math.min(30, Number(params.get('rows') || '10')));
  var queue = [];

  function text(el, t) { el.textContent = t; return el; }
  function get(url) { return fetch(url).then(function (r) { if (!r.ok) throw r; return r.json(); }); }

  function round() {
    return get('/api/v1/catalog/sections?center=' + encodeURIComponent(center)).then(function (s) {
      queue = [];
      s.items.forEach(function (sec) {
        if (sec.key === 'outside' || sec.total === 0) return;
        var pages = Math.ceil(sec.total / perPage);
        for (var p = 1; p <= pages; p++) queue.push({ key: sec.key, page: p });
      });
    });
  }

  function show(step) {
    var url = '/api/v1/catalog/sections/' + encodeURIComponent(step.key) + '?center=' +
      encodeURIComponent(center) + '&page=' + step.page + '&per_page=' + perPage;
    return get(url).then(function (p) {
      text(document.getElementById('section-title'), p.title);
      text(document.getElementById('page-no'), p.pages > 1 ? ('第 ' + p.page + '/' + p.pages + ' 页') : '');
      var body = document.querySelector('#list-rows tbody');
      body.textContent = '';
      p.items.forEach(function (r) {
        var tr = document.createElement('tr');
        [r.path[r.path.length - 1] || r.code, r.windows || '—', r.consult_phone || r.duty_phone || '—']
          .forEach(function (c) { tr.appendChild(text(document.createElement('td'), c)); });
        body.appendChild(tr);
      });
    });
  }

  function next() {
    var step = queue.shift();
    var go = step ? show(step) : round().then(function () {
      var empty = queue.length === 0;
      document.getElementById('list-empty').hidden = !empty;
      document.getElementById('list-rows').hidden = empty;
      if (empty) text(document.getElementById('section-title'), '延时错时预约服务目录');
      return empty ? null : show(queue.shift());
    });
    // Network or server down: try again at the next turn.
    go.catch(function () {}).then(function () { setTimeout(next, seconds * 1000); });
  }

  var hours = function () {
    fetch('/centers/' + center + '/hours/today').then(function (r) { return r.text(); })
      .then(function (h) { document.getElementById('hours').innerHTML = h; }, function () {});
  };
  hours(); setInterval(hours, 600000);
  next();
})();
