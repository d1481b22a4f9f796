// llm-assess page glue. No inline scripts anywhere (the CSP forbids them): everything lives here.
(function () {
  'use strict';

  function meta(name) {
    var m = document.querySelector('meta[name="' + name + '"]');
    return m ? m.getAttribute('content') : null;
  }

  // The launch token (ltik) arrives in the URL after a launch. It is a credential: keep it out of the address
  // bar, history and anything a person might copy. Pages keep it in a meta tag instead.
  if (window.location.search.indexOf('ltik=') !== -1) {
    var url = new URL(window.location.href);
    url.searchParams.delete('ltik');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }

  // Every htmx request carries the session (ltik) and the CSRF token as headers.
  document.addEventListener('htmx:configRequest', function (event) {
    var ltik = meta('ltik');
    if (ltik) event.detail.headers['Authorization'] = 'Bearer ' + ltik;
    var csrf = meta('csrf-token');
    if (csrf) event.detail.headers['X-CSRF-Token'] = csrf;
  });

  // Move focus to an error that appears, so keyboard and screen-reader users learn about it.
  document.addEventListener('htmx:afterSwap', function (event) {
    var target = event.detail.target;
    if (target && target.id === 'flash') {
      var alert = target.querySelector('[role="alert"]');
      if (alert) {
        alert.setAttribute('tabindex', '-1');
        alert.focus();
      }
    }
  });

  // A fragment that replaces the focused element (a form answering its own submit) takes the focus with it, and
  // the person is left at the top of the page without knowing what happened. Put focus on the first field to fix,
  // else on the outcome message, else on the fragment's heading. Pages with their own rule (the prompt editor) run
  // after this one and may move it again; a swap that did not hold the focus (polling) changes nothing.
  // Keyed by the target's id; recorded before the request, since hx-disabled-elt takes focus off the button then.
  var lostFocusIn = {};
  // Parts that refresh themselves (a batch's status, a submission's status) mark the text worth hearing with
  // data-announce (its prefix) and an id: when the text changes, it is read out once through #announcer.
  var announced = {};
  function holdsFocus(target) {
    var active = document.activeElement;
    return Boolean(target && target.id && active && active !== document.body && target.contains(active));
  }
  document.addEventListener('htmx:beforeRequest', function (event) {
    if (holdsFocus(event.detail.target)) lostFocusIn[event.detail.target.id] = true;
  });
  document.addEventListener('htmx:beforeSwap', function (event) {
    var target = event.detail.target;
    if (holdsFocus(target)) lostFocusIn[target.id] = true;
    if (target && target.querySelectorAll) {
      var before = target.querySelectorAll('[data-announce][id]');
      for (var i = 0; i < before.length; i++) announced[before[i].id] = before[i].textContent.trim();
    }
  });
  document.addEventListener('htmx:afterSettle', function (event) {
    var announcer = document.getElementById('announcer');
    var changes = [];
    for (var id in announced) {
      var now = document.getElementById(id);
      var text = now ? now.textContent.trim() : '';
      if (now && text !== announced[id]) changes.push(now.getAttribute('data-announce') + text);
    }
    announced = {};
    if (announcer && changes.length) announcer.textContent = changes.join('. ');

    var targetId = event.detail.target && event.detail.target.id;
    if (!targetId || !lostFocusIn[targetId]) return;
    delete lostFocusIn[targetId];
    var root = document.getElementById(targetId);
    if (!root || (document.activeElement && document.activeElement !== document.body && root.contains(document.activeElement))) return;
    var next = root.querySelector('[aria-invalid="true"]');
    var fallbacks = ['[role="alert"], .alert-error', '.alert, [role="status"]', 'h2, h1'];
    for (var i = 0; !next && i < fallbacks.length; i++) {
      next = root.querySelector(fallbacks[i]);
      if (next) next.setAttribute('tabindex', '-1');
    }
    if (next) next.focus();
  });

  document.addEventListener('DOMContentLoaded', function () {
    // Deep-linking answers post themselves back to the LMS.
    var auto = document.querySelector('form[data-autosubmit]');
    if (auto) auto.submit();
    // Dynamic registration: tell the LMS window we are done (IMS LTI Dynamic Registration, section 3.6).
    if (document.querySelector('[data-lti-close]')) {
      (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
    }
  });
})();
