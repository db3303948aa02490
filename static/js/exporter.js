// The meeting's exports in the admin: poll the jobs that are still running, so the progress
// bar moves without a reload. The server shows a job no worker runs as failed after ten minutes
// (EXPORT_TIDSGRANS), which ends the polling of its row; the page also stops on its own after
// SLUTA_EFTER, so a tab left open does not ask the server every two seconds for ever.
(function () {
  "use strict";
  var INTERVALL = 2000;
  var SLUTA_EFTER = 15 * 60 * 1000;
  var start = Date.now();
  function slutat() {
    document.querySelectorAll('#exporter tr[data-klar="0"] .status').forEach(function (status) {
      var note = document.createElement("em");
      note.textContent = "Sidan uppdateras inte längre. Ladda om den för att se hur exporten går.";
      status.append(document.createElement("br"), note);
    });
  }
  function poll() {
    var rows = document.querySelectorAll('#exporter tr[data-klar="0"]');
    if (!rows.length) { return; }
    if (Date.now() - start > SLUTA_EFTER) { slutat(); return; }
    rows.forEach(function (row) {
      fetch(row.dataset.statusUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (d) {
        var bar = row.querySelector("progress");
        bar.max = d.totalt; bar.value = d.klara;
        row.querySelector(".antal").textContent = d.klara + " av " + d.totalt + (d.totalt === 1 ? " punkt" : " punkter");
        var status = row.querySelector(".status");
        status.textContent = d.status_text;
        if (d.fel) {
          var fel = document.createElement("strong");
          fel.className = "errornote"; fel.textContent = d.fel;
          status.append(document.createElement("br"), fel);
        }
        if (d.fil) {
          var a = document.createElement("a");
          a.href = d.fil; a.textContent = "Ladda ner";
          row.querySelector(".fil").replaceChildren(a);
        }
        if (d.status === "klar" || d.status === "misslyckad") { row.dataset.klar = "1"; }
      });
    });
    setTimeout(poll, INTERVALL);
  }
  setTimeout(poll, INTERVALL);
})();
