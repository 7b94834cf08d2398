// Moves the focus, once, to what the user must hear first after a page loads:
// - an element marked data-focus-on-load (for example a password shown only once);
// - otherwise the first error of a form that came back: a field with aria-invalid (a screen
//   reader then reads its label and, through aria-describedby, its error message) or an error
//   alert (role="alert"), whichever comes first.
// A keyboard user then continues from there instead of from the top of the page.
// Loaded as a file because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var target = document.querySelector("main [data-focus-on-load]") || document.querySelector(
    'main [aria-invalid="true"], main .alert-danger[role="alert"]'
  );
  if (!target) { return; }
  if (target.getAttribute("aria-invalid") !== "true" && !target.hasAttribute("tabindex")) {
    target.setAttribute("tabindex", "-1"); // an alert or a heading is not focusable by itself
  }
  target.focus();
})();
