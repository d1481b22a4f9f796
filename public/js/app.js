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
