// Inside an LMS frame, ask the LMS to make the frame as tall as the page (the `lti.frameResize` message Canvas
// honours, and LMSs that follow it), so the page scrolls with the LMS instead of inside a fixed-height frame. Only
// the height is sent: targetOrigin '*' is what the LMSs expect for this message, and the LMS origin is not known.
(function () {
  'use strict';
  if (window.parent === window) return;

  var sent = 0;
  var scheduled = false;

  // The content's height, not the frame's: scrollHeight of the root never drops below the frame's own height, so a
  // page that gets shorter would keep its frame tall.
  function pageHeight() {
    var root = document.documentElement.getBoundingClientRect().height;
    var body = document.body ? document.body.scrollHeight : 0;
    return Math.ceil(Math.max(root, body));
  }

  function send() {
    scheduled = false;
    var height = pageHeight();
    if (!height || height === sent) return;
    sent = height;
    window.parent.postMessage({ subject: 'lti.frameResize', height: height }, '*');
  }

  // At most once a frame, however many changes arrive together.
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(send);
  }

  function start() {
    // Content selection (body.compact) is laid out for the LMS's fixed-size modal: its list scrolls inside it.
    if (document.body.classList.contains('compact')) return;
    schedule();
    var Observer = window.ResizeObserver;
    if (typeof Observer === 'function') new Observer(schedule).observe(document.body);
    else window.addEventListener('resize', schedule);
    document.addEventListener('htmx:afterSettle', schedule);
    window.addEventListener('load', schedule);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
