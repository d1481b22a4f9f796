// Keyboard shortcuts on the review page: A approves, N opens the next waiting assessment, O goes to the override
// score. Single keys only act when no field has the focus and no modifier is held; a checkbox on the page turns
// them off (remembered in this browser), as WCAG 2.1.4 asks of single-character shortcuts.
(function () {
  'use strict';

  var STORAGE_KEY = 'llm-assess.review-shortcuts';

  function enabled() {
    try {
      return window.localStorage.getItem(STORAGE_KEY) !== 'off';
    } catch (e) {
      return true;
    }
  }

  function typingIn(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
  }

  function setup() {
    var toggle = document.getElementById('review-shortcuts-toggle');
    if (!toggle) return;
    toggle.checked = enabled();
    toggle.addEventListener('change', function () {
      try {
        window.localStorage.setItem(STORAGE_KEY, toggle.checked ? 'on' : 'off');
      } catch (e) {
        /* private mode: the setting lasts for this page only */
      }
    });
  }

  document.addEventListener('keydown', function (event) {
    var toggle = document.getElementById('review-shortcuts-toggle');
    if (!toggle || !toggle.checked) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typingIn(event.target)) return;
    var key = (event.key || '').toLowerCase();
    var target = null;
    if (key === 'a') target = document.querySelector('[data-shortcut="approve"]');
    else if (key === 'n') target = document.querySelector('[data-shortcut="next"]');
    else if (key === 'o') target = document.querySelector('[data-shortcut="override"]');
    if (!target) return;
    event.preventDefault();
    if (target.tagName === 'INPUT') target.focus();
    else target.click();
  });

  document.addEventListener('DOMContentLoaded', setup);
})();
