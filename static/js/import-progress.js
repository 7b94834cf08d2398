// Polls the import's progress and reloads the page when it has finished, or when a run
// whose worker died may be started again (the page then offers the button).
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status === "done" || status === "failed") { return; }
  var bar = document.getElementById("progress-bar");
  var wrapper = bar ? bar.parentElement : null;
  // A polite live region: a screen reader hears when the import leaves the queue and starts,
  // not every percent (the progress bar itself carries aria-valuenow for those who ask).
  var text = document.getElementById("progress-text");
  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (bar) {
          bar.style.width = data.percent + "%";
          bar.textContent = data.percent + "%";
          wrapper.setAttribute("aria-valuenow", String(data.percent));
        }
        if (text && data.status !== status && text.hasAttribute("data-" + data.status)) {
          text.textContent = text.getAttribute("data-" + data.status);
        }
        status = data.status;
        if (data.status === "done" || data.status === "failed" || data.stuck) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
