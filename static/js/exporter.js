// The meeting's exports in the admin: poll the jobs that are still running, so the progress
// bar moves without a reload. The server shows a job no worker runs as failed (a running one a
// minute after its last sign of life, EXPORT_TIDSGRANS; a waiting one after ten minutes,
// EXPORT_VANTETID), which ends the polling of its row; the page also stops on its own after
// SLUTA_EFTER, so a tab left open does not ask the server every two seconds for ever.
//
// A question that gets no answer is said, never swallowed: the row would otherwise read "Pågår"
// for a quarter of an hour while nothing is known. A fault that may pass (the server's error, no
// connection) is told above the table and asked again; an ended session (the admin answers with
// its login page) is told with what to do, and the page goes on asking, so that it follows the job
// again once the secretary has logged in in another tab. An export the server no longer shows them
// (gone, or no longer theirs to see) is told on its row, which is not asked again.
(function () {
  "use strict";
  var INTERVALL = 2000;
  var SLUTA_EFTER = 15 * 60 * 1000;
  var UTLOGGAD = "Du är utloggad, så sidan kan inte visa hur exporten går. Logga in igen i en ny flik; " +
    "då fortsätter sidan här att visa förloppet.";
  var start = Date.now();
  var tabell = document.getElementById("exporter");

  // A screen reader speaks what changes in a live region that it already knows, not a region
  // that arrives with its text: so the regions are put in the page empty, now, and only their
  // text comes and goes.
  function region(roll) {
    var el = document.createElement("div");
    el.setAttribute("role", roll);
    if (roll === "status") { el.setAttribute("aria-live", "polite"); }
    tabell.before(el);
    return el;
  }

  // Above the table while there is something to say (the admin's .errornote would show even
  // an empty box, `hidden` or not).
  var lage = region("status");
  lage.id = "exporter-lage";
  var meddelande = document.createElement("p");
  meddelande.id = "exporter-meddelande";
  meddelande.className = "errornote";

  function visa(text) {
    if (meddelande.textContent !== text) { meddelande.textContent = text; }
    if (text && !meddelande.isConnected) { lage.append(meddelande); }
    if (!text) { meddelande.remove(); }
  }

  // An export that ends while the page follows it is said once, when it ends: the row's own
  // status is written anew at every answer and is no live region. Its end is seen on the row;
  // these say it to the ear only.
  var klarRegion = region("status");
  var felRegion = region("alert");
  klarRegion.className = felRegion.className = "visually-hidden";

  function saga(el, text) {
    el.textContent = el.textContent ? el.textContent + " " + text : text;
  }

  function slutsvar(row, d) {
    var typ = "Exporten ”" + row.querySelector(".typ").textContent.trim() + "”";
    if (d.status === "klar") {
      saga(klarRegion, typ + " är klar. Ladda ner den på dess rad i tabellen under Exportera handlingarna." +
        (d.fel ? " " + d.fel : ""));
    } else {
      saga(felRegion, typ + " misslyckades." + (d.fel ? " " + d.fel : ""));
    }
  }

  function slutat() {
    document.querySelectorAll('#exporter tr[data-klar="0"] .status').forEach(function (status) {
      var note = document.createElement("em");
      note.textContent = "Sidan uppdateras inte längre. Ladda om den för att se hur exporten går.";
      status.append(document.createElement("br"), note);
    });
  }

  function visaExport(row, d) {
    var bar = row.querySelector("progress");
    bar.max = d.totalt; bar.value = d.klara;
    row.querySelector(".antal").textContent = d.klara + " av " + d.totalt + (d.totalt === 1 ? " handling" : " handlingar");
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
    if (d.status === "klar" || d.status === "misslyckad") {
      row.dataset.klar = "1";
      slutsvar(row, d);
    }
  }

  // The row is no longer asked about: the answer will not change by asking again.
  function avsluta(row, text) {
    row.dataset.klar = "fel";
    var fel = document.createElement("strong");
    fel.className = "errornote"; fel.textContent = text;
    row.querySelector(".status").append(document.createElement("br"), fel);
  }

  // One row's question, settled as "ok", "utloggad" or a fault that may pass (its Swedish
  // description); a definitive answer ends the row's polling and settles as "ok".
  function fraga(row) {
    return fetch(row.dataset.statusUrl, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (r) {
        // The admin sends an ended session (or an account no longer staff) to its login page.
        if (r.redirected) { return "utloggad"; }
        if (r.status === 404 || r.status === 410) {
          avsluta(row, "Exporten finns inte längre, eller så har du inte längre åtkomst till den. Sidan frågar inte " +
            "längre efter den; ladda om sidan för att se mötets exporter.");
          return "ok";
        }
        if (r.status === 403) {
          avsluta(row, "Du har inte längre behörighet att följa exporten (rollen Nämndsekreterare). Sidan frågar " +
            "inte längre efter den.");
          return "ok";
        }
        if (r.status >= 400 && r.status < 500) {
          avsluta(row, "Exportens status kunde inte hämtas (fel " + r.status + "). Sidan frågar inte längre efter " +
            "den; ladda om sidan för att försöka igen.");
          return "ok";
        }
        if (!r.ok) { return "servern svarade med ett fel (" + r.status + ")"; }
        return r.json().then(function (d) {
          visaExport(row, d);
          return "ok";
        }, function () { return "servern svarade inte som väntat"; });
      }, function () { return "sidan fick ingen kontakt med servern"; });
  }

  function poll() {
    var rows = document.querySelectorAll('#exporter tr[data-klar="0"]');
    // What was said in the last round is not said again with the next.
    klarRegion.textContent = felRegion.textContent = "";
    if (!rows.length) { return; }
    if (Date.now() - start > SLUTA_EFTER) { slutat(); return; }
    // The next round waits for this one's answers: a slow server is not asked again and again.
    Promise.all(Array.prototype.map.call(rows, fraga)).then(function (svar) {
      var fel = svar.filter(function (s) { return s !== "ok"; });
      if (fel.indexOf("utloggad") !== -1) {
        visa(UTLOGGAD);
      } else if (fel.length) {
        visa("Exportens status kunde inte hämtas: " + fel[0] + ". Förloppet nedan kan vara inaktuellt; sidan " +
          "försöker igen om en stund.");
      } else {
        visa("");
      }
      setTimeout(poll, INTERVALL);
    });
  }
  setTimeout(poll, INTERVALL);
})();
