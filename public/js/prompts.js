// The prompt editor's variable menu: buttons that insert `{variable}` at the cursor of the template. Delegated
// from the document, so it keeps working after htmx swaps the editor. No inline scripts (the CSP forbids them).
(function () {
  'use strict';

  function insertAtCursor(field, text) {
    var start = typeof field.selectionStart === 'number' ? field.selectionStart : field.value.length;
    var end = typeof field.selectionEnd === 'number' ? field.selectionEnd : start;
    field.focus();
    // setRangeText keeps the field's undo history in most browsers; the fallback rebuilds the value.
    if (typeof field.setRangeText === 'function') {
      field.setRangeText(text, start, end, 'end');
    } else {
      field.value = field.value.slice(0, start) + text + field.value.slice(end);
      field.selectionStart = field.selectionEnd = start + text.length;
    }
    field.dispatchEvent(new window.Event('input', { bubbles: true }));
  }

  document.addEventListener('click', function (event) {
    var button = event.target && event.target.closest ? event.target.closest('button[data-insert]') : null;
    if (!button) return;
    var field = document.getElementById(button.getAttribute('data-insert-into'));
    if (!field) return;
    event.preventDefault();
    // A textarea keeps its selection while a menu button has focus, so keyboard users insert where they were.
    insertAtCursor(field, button.getAttribute('data-insert'));
  });

  // The editor's page fragment is replaced after each change, taking the focused button with it: put focus where
  // the person's attention should go next (the first field to fix, the new criterion, or the outcome message).
  var pending = null;
  document.addEventListener('htmx:beforeSwap', function (event) {
    var target = event.detail.target;
    pending = target && target.id === 'prompts-page' ? { action: event.detail.elt && event.detail.elt.value } : null;
  });
  document.addEventListener('htmx:afterSettle', function () {
    if (!pending) return;
    var action = pending.action || '';
    pending = null;
    var page = document.getElementById('prompts-page');
    if (!page) return;
    var names = page.querySelectorAll('#prompts-rubric .criterion input[name$="[name]"]');
    var next = page.querySelector('[aria-invalid="true"]');
    if (!next && action === 'add-criterion') next = names[names.length - 1];
    if (!next && action.indexOf('remove-criterion:') === 0) next = names[Math.max(0, Number(action.split(':')[1]) - 1)] || page.querySelector('button[value="add-criterion"]');
    if (!next) {
      next = document.getElementById('prompts-message');
      if (next) next.setAttribute('tabindex', '-1');
    }
    if (next) next.focus();
  });
})();
