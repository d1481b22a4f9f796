// The Costs page's budgets panel is replaced after each change, taking the focused button with it: put focus on
// the first field to fix, else on the outcome message, so keyboard and screen-reader users know what happened.
// No inline scripts (the CSP forbids them).
(function () {
  'use strict';

  var pending = false;
  document.addEventListener('htmx:beforeSwap', function (event) {
    var target = event.detail.target;
    pending = Boolean(target && target.id === 'costs-budgets');
  });
  document.addEventListener('htmx:afterSettle', function () {
    if (!pending) return;
    pending = false;
    var panel = document.getElementById('costs-budgets');
    if (!panel) return;
    var next = panel.querySelector('[aria-invalid="true"]');
    if (!next) {
      next = panel.querySelector('.alert');
      if (next) next.setAttribute('tabindex', '-1');
    }
    if (next) next.focus();
  });
})();
