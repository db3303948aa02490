// The meeting's exports in the admin: poll the jobs that are still running, so the progress
// bar moves without a reload.
(function () {
  "use strict";
  function poll() {
    var rows = document.querySelectorAll('#exporter tr[data-klar="0"]');
    if (!rows.length) { return; }
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
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
