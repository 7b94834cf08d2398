// After an import the login slips are made in the background; reload once they are ready.
(function () {
  "use strict";
  var note = document.getElementById("slips-pending");
  if (!note) { return; }
  var tries = 0;
  function poll() {
    fetch(note.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.slips_ready) { window.location.reload(); }
        else if (++tries < 120) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { if (++tries < 120) { window.setTimeout(poll, 3000); } });
  }
  poll();
})();
