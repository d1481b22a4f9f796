// Times in the reader's time zone. The server writes UTC (it cannot know the zone); every <time datetime data-local>
// is rewritten here with the browser's zone and its UTC offset shown ("3 Dec 2026, 17:04 (UTC+1)"), on load and
// after each htmx swap. Without JavaScript the UTC wording stays, marked "UTC".
(function () {
  'use strict';

  function offsetLabel(date) {
    var minutes = -date.getTimezoneOffset();
    if (minutes === 0) return 'UTC';
    var sign = minutes > 0 ? '+' : '−';
    var abs = Math.abs(minutes);
    var hours = Math.floor(abs / 60);
    var rest = abs % 60;
    return 'UTC' + sign + hours + (rest ? ':' + (rest < 10 ? '0' : '') + rest : '');
  }

  var format;
  try {
    format = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  } catch (e) {
    format = null;
  }

  function localize(root) {
    if (!format) return;
    var times = (root || document).querySelectorAll('time[data-local][datetime]');
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var date = new Date(el.getAttribute('datetime'));
      if (isNaN(date.getTime())) continue;
      el.textContent = format.format(date) + ' (' + offsetLabel(date) + ')';
      el.setAttribute('title', date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC');
    }
  }

  function pad(n) {
    return (n < 10 ? '0' : '') + n;
  }

  // A date-time field (<input type="datetime-local">) is written in UTC by the server (data-utc holds the moment):
  // shown here in the reader's zone, and its hidden tzOffset partner says which zone the typed value is in, so the
  // server stores the moment meant. Without JavaScript both stay UTC and agree.
  function syncOffset(input) {
    var partner = document.querySelector('input[data-tz-offset-for="' + input.id + '"]');
    if (!partner) return;
    var local = input.value ? new Date(input.value) : null;
    partner.value = local && !isNaN(local.getTime()) ? String(local.getTimezoneOffset()) : '';
  }

  function localizeInputs(root) {
    var inputs = (root || document).querySelectorAll('input[type="datetime-local"]');
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      var utc = el.getAttribute('data-utc');
      if (utc) {
        var d = new Date(utc);
        if (!isNaN(d.getTime())) el.value = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
        el.removeAttribute('data-utc');
      }
      syncOffset(el);
    }
  }

  document.addEventListener('input', function (event) {
    if (event.target && event.target.type === 'datetime-local') syncOffset(event.target);
  });
  document.addEventListener('DOMContentLoaded', function () {
    localize(document);
    localizeInputs(document);
  });
  document.addEventListener('htmx:afterSettle', function (event) {
    localize(event.detail.elt || document);
    localizeInputs(event.detail.elt || document);
  });
})();
