// The small behaviours of the pages, declared in the markup with data attributes instead of
// inline handlers, so that the Content-Security-Policy can refuse every inline script:
//   data-print                    a button that prints the page
//   data-back                     a link that goes back one page (its href is the fallback)
//   form[data-confirm="…"]        asks before submitting
//   select[data-autosubmit]       submits its form when changed
//   input[type=file][data-fills="id"]   puts the chosen text file into the textarea #id
//   [data-redirect="/path"][data-redirect-after="30"]   goes to /path after 30 seconds
(function () {
  'use strict';

  document.addEventListener('click', function (e) {
    var el = e.target.closest && e.target.closest('[data-print], [data-back]');
    if (!el) return;
    if (el.hasAttribute('data-print')) { e.preventDefault(); window.print(); }
    if (el.hasAttribute('data-back') && window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });

  document.addEventListener('submit', function (e) {
    var form = e.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) e.preventDefault();
  });

  document.addEventListener('change', function (e) {
    var el = e.target;
    if (el.matches && el.matches('select[data-autosubmit]') && el.form) el.form.submit();
    if (el.matches && el.matches('input[type=file][data-fills]')) {
      var target = document.getElementById(el.getAttribute('data-fills'));
      var file = el.files && el.files[0];
      if (target && file) file.text().then(function (t) { target.value = t; });
    }
  });

  function start() {
    var go = document.querySelector('[data-redirect]');
    var path = go && go.getAttribute('data-redirect');
    if (path && path.charAt(0) === '/' && path.charAt(1) !== '/') {
      var seconds = parseInt(go.getAttribute('data-redirect-after'), 10) || 30;
      setTimeout(function () { location.href = path; }, seconds * 1000);
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
