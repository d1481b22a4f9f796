// Queue dashboard glue: "select every item on this page". Delegated, so it survives htmx swaps of the board.
(function () {
  'use strict';
  document.addEventListener('change', function (event) {
    var box = event.target;
    if (!box || !box.hasAttribute || !box.hasAttribute('data-select-page')) return;
    var form = document.getElementById(box.getAttribute('data-select-page'));
    if (!form) return;
    var boxes = form.querySelectorAll('input[type="checkbox"][name="ids"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = box.checked;
  });
})();
