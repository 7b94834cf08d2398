// A double click on 'Importeer' submits once (the server also refuses a second import).
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[data-once]").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
})();
