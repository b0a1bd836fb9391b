// A citizen's phone page (排队进度): reads the ticket every 10 seconds and reloads the page
// when its state, the people ahead or the window change.
(function () {
  'use strict';
  var follow = document.getElementById('follow');
  if (!follow) return;
  var token = follow.dataset.token, last = null;
  setInterval(function () {
    fetch('/api/v1/tickets/' + token).then(function (r) { return r.json(); }).then(function (s) {
      var key = s.state + ':' + s.ahead + ':' + (s.window_name || '');
      if (last !== null && key !== last) { location.reload(); }
      last = key;
    }).catch(function () {});
  }, 10000);
})();
