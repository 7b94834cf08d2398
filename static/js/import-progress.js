// Polls the import's progress and reloads the page when it has finished, or when a run
// whose worker died may be started again (the page then offers the button).
// After the import the mails go out in the background: on a finished import the counts are
// followed until no mail is pending any more (a mail waiting for a retry after a temporary
// failure is still pending). If mails failed meanwhile, the page reloads once to list them
// and offer 'Opnieuw versturen'.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  var status = box.getAttribute("data-status");

  function poll(handle, retryMs) {
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(handle)
      .catch(function () {
        window.setTimeout(function () { poll(handle, retryMs); }, retryMs);
      });
  }

  // --- The import itself ---------------------------------------------------------------------
  var bar = document.getElementById("progress-bar");
  var wrapper = bar ? bar.parentElement : null;
  // A polite live region: a screen reader hears when the import leaves the queue and starts,
  // not every percent (the progress bar itself carries aria-valuenow for those who ask).
  var text = document.getElementById("progress-text");
  function followImport(data) {
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
      window.setTimeout(function () { poll(followImport, 3000); }, 1000);
    }
  }

  // --- The mails after it ----------------------------------------------------------------------
  var mails = document.getElementById("mail-counts");
  var mailDelay = 1000;
  function followMails(data) {
    var counts = data.mail || {};
    Object.keys(counts).forEach(function (key) {
      var cell = mails.querySelector('[data-mail="' + key + '"]');
      if (cell && cell.textContent !== String(counts[key])) {
        cell.textContent = String(counts[key]);
      }
    });
    var retrying = mails.querySelector('[data-mail-item="retrying"]');
    if (retrying) { retrying.hidden = !counts.retrying; }
    if (counts.pending > 0) {
      // Retries wait longer each time (seconds to minutes): so may the page, up to 10 s.
      mailDelay = Math.min(10000, Math.round(mailDelay * 1.5));
      window.setTimeout(function () { poll(followMails, mailDelay); }, mailDelay);
    } else if (counts.failed > Number(mails.getAttribute("data-failed"))) {
      window.location.reload();
    }
  }

  if (status !== "done" && status !== "failed") {
    poll(followImport, 3000);
  } else if (mails && Number(mails.getAttribute("data-pending")) > 0) {
    poll(followMails, 3000);
  }
})();
