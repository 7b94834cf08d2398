// Beheer pages. Loaded as a file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // 'Selecteer alle kandidaten op deze pagina'.
  document.querySelectorAll("input[data-select-all]").forEach(function (master) {
    var form = master.form;
    var name = master.getAttribute("data-select-all");
    var boxes = function () {
      return form.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    };
    master.addEventListener("change", function () {
      boxes().forEach(function (box) { box.checked = master.checked; });
    });
    form.addEventListener("change", function (event) {
      if (event.target.name !== name) { return; }
      var all = boxes();
      var checked = Array.prototype.filter.call(all, function (b) { return b.checked; });
      master.checked = all.length > 0 && checked.length === all.length;
      master.indeterminate = checked.length > 0 && checked.length < all.length;
    });
  });

  // Ask once more before actions that change many accounts or passwords.
  document.querySelectorAll("form[data-confirm-actions]").forEach(function (form) {
    var actions = form.getAttribute("data-confirm-actions").split(" ");
    form.addEventListener("submit", function (event) {
      var select = form.querySelector('select[name="action"]');
      if (select && actions.indexOf(select.value) !== -1 &&
          !window.confirm(form.getAttribute("data-confirm-message"))) {
        event.preventDefault();
      }
    });
  });

  // Buttons with data-confirm (for example 'Nieuw wachtwoord genereren').
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
})();
