// Auto-refresh for the queue dashboard. The pages are complete without it: this only reloads
// them every 5 s while the box is ticked (the choice is kept in localStorage).
(function () {
  'use strict';
  var box = document.getElementById('auto-refresh');
  if (!box) return;
  var input = box.querySelector('input');
  var key = 'scenergy-admin-refresh';
  var timer = null;
  box.hidden = false;
  input.checked = window.localStorage.getItem(key) !== 'off';
  function arm() {
    window.clearTimeout(timer);
    if (input.checked) timer = window.setTimeout(function () { window.location.reload(); }, 5000);
  }
  input.addEventListener('change', function () {
    window.localStorage.setItem(key, input.checked ? 'on' : 'off');
    arm();
  });
  arm();
})();
