// The lobby screen of cases: a clock, and a reload every 30 seconds for the latest cases.
(function () {
  var clock = document.getElementById('clock');
  function tick() {
    var d = new Date();
    var p = function (n) { return (n < 10 ? '0' : '') + n; };
    clock.textContent = p(d.getHours()) + ':' + p(d.getMinutes());
  }
  tick();
  setInterval(tick, 10000);
  setTimeout(function () { location.reload(); }, 30000);
})();
