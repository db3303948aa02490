/* The tjänsteutlåtande editor: one Quill editor per text field, saved per section through the
 * JSON endpoint, and the measure register. Nothing typed is thrown away: a failed or refused
 * save leaves the text in the editor, and leaving the page with unsaved text asks first. */
(function () {
  "use strict";

  var form = document.getElementById("editor");
  if (!form) return;
  var csrf = form.dataset.csrf;
  // The sections save through fetch; Enter in a field never submits the form itself.
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  // A footnote is written inline where its marker goes: <span class="fotnot">text</span>.
  var Inline = Quill.import("blots/inline");
  class Fotnot extends Inline {
    static blotName = "fotnot";
    static tagName = "SPAN";
    static className = "fotnot";
    static formats() { return true; }
  }
  Quill.register(Fotnot, true);

  // The token the browser holds now: logging in again (in another tab, after the session
  // ended) gives a new one, which the page's own copy no longer matches.
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : csrf;
  }

  function loggaIn(then) { return "Logga in igen i en ny flik och " + then + " sedan här."; }

  // The server's answer as {status, data}; an answer that is not the JSON asked for carries a
  // Swedish message in data.fel instead. `then` is what to do again once logged in: "spara",
  // unless the request saved nothing (a search).
  function answer(response, then) {
    then = then || "spara";
    // An ended session answers with the login page (a redirect the browser followed).
    if (response.redirected && new URL(response.url).pathname.indexOf("/logga-in/") === 0) {
      return {status: 401, data: {fel: "Du är utloggad. " + loggaIn(then)}};
    }
    return response.json().catch(function () {
      var fel = response.status === 403
        ? "Servern tog inte emot sparningen (403). " + loggaIn(then)
        : "Oväntat svar från servern (" + response.status + ").";
      return {fel: fel};
    }).then(function (data) { return {status: response.status, data: data}; });
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json"},
      body: JSON.stringify(body),
    }).then(answer);
  }

  function insertFootnote(quill) {
    var range = quill.getSelection(true);
    if (range && range.length > 0) {
      var current = quill.getFormat(range);
      quill.format("fotnot", !current.fotnot, "user");
      return;
    }
    var text = window.prompt("Fotnotens text:");
    if (!text || !text.trim()) return;
    var index = range ? range.index : quill.getLength() - 1;
    quill.insertText(index, text.trim(), {fotnot: true}, "user");
    quill.setSelection(index + text.trim().length, 0, "user");
    quill.format("fotnot", false, "user");
  }

  // The stored form: Quill's semantic HTML (real <ul>/<ol>), with its non-breaking spaces
  // turned back into spaces and an empty editor stored as nothing.
  function editorHTML(quill) {
    if (!quill.getText().trim()) return "";
    return quill.getSemanticHTML().replace(/&nbsp;/g, " ").replace(/\u00a0/g, " ");
  }

  // The document's status as the server answered it: an edit of a document sent for attest, or
  // attested, voids the attest and makes it a draft again. Returns what changed, in words to add
  // to the status the change is told in: the page's status line is no live region, and a screen
  // reader user would not hear that their save voided the attest.
  function showDocumentStatus(data) {
    var status = document.getElementById("dokumentstatus");
    var said = "";
    if (status && data.status && status.textContent !== data.status) {
      status.textContent = data.status;
      said = data.utkast ? " Attesteringen är makulerad och dokumentet är ett utkast igen."
        : " Dokumentets status är nu " + data.status.toLowerCase() + ".";
    }
    // A draft again: the warning that a save voids the attest, and its withdrawal, are past.
    var varning = document.getElementById("attestvarning");
    if (varning && data.utkast) varning.hidden = true;
    return said;
  }

  // Bold and italic that a pasted element's style attribute sets: Google Docs writes them only
  // so (<span style="font-weight:700">), as do many web pages. The page's Content-Security-Policy
  // keeps the browser from applying a pasted style, so Quill's own matcher, which reads the
  // applied style, saw none and the officer's emphasis was lost; the attribute's text is read.
  function styledFormats(style) {
    var formats = {};
    var declarations = {};
    (style || "").split(";").forEach(function (declaration) {
      var colon = declaration.indexOf(":");
      if (colon > 0) {
        declarations[declaration.slice(0, colon).trim().toLowerCase()] =
          declaration.slice(colon + 1).replace(/!important/i, "").trim().toLowerCase();
      }
    });
    var weight = declarations["font-weight"];
    if (weight === "bold" || weight === "bolder" || parseInt(weight, 10) >= 600) formats.bold = true;
    if (declarations["font-style"] === "italic" || declarations["font-style"] === "oblique") formats.italic = true;
    return formats;
  }

  // `delta`'s text on one line: its line breaks as spaces, none at its ends.
  function onOneLine(delta) {
    var Delta = Quill.import("delta");
    var ops = delta.ops.map(function (op) {
      if (typeof op.insert !== "string") return op;
      return Object.assign({}, op, {insert: op.insert.replace(/\s*\n\s*/g, " ")});
    });
    var first = ops[0], last = ops[ops.length - 1];
    if (first && typeof first.insert === "string") first.insert = first.insert.replace(/^\s+/, "");
    if (last && typeof last.insert === "string") last.insert = last.insert.replace(/\s+$/, "");
    return new Delta(ops.filter(function (op) { return op.insert !== ""; }));
  }

  // `delta` with `formats` added to its text, where it has no value of its own for them.
  function withFormats(delta, formats) {
    if (!Object.keys(formats).length) return delta;
    var Delta = Quill.import("delta");
    return delta.reduce(function (result, op) {
      if (typeof op.insert !== "string") return result.push(op);
      return result.insert(op.insert, Object.assign({}, formats, op.attributes));
    }, new Delta());
  }

  // Each toolbar is one Tab stop (the WAI-ARIA toolbar pattern): with five stops a section, a
  // keyboard user tabbed through some 45 buttons to reach the last section. The arrow keys move
  // between its buttons, round its ends, Home and End go to the first and last, and the button
  // last focused is where Tab comes back to.
  function rovingToolbar(toolbar) {
    var buttons = Array.prototype.slice.call(toolbar.querySelectorAll("button"));
    function tabStop(button) {
      buttons.forEach(function (b) { b.tabIndex = b === button ? 0 : -1; });
    }
    tabStop(buttons[0]);
    toolbar.addEventListener("focusin", function (event) {
      if (buttons.indexOf(event.target) >= 0) tabStop(event.target);
    });
    toolbar.addEventListener("keydown", function (event) {
      var i = buttons.indexOf(event.target);
      if (i < 0 || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
      var to = {ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1}[event.key];
      if (to === undefined) return;
      event.preventDefault();
      buttons[(to + buttons.length) % buttons.length].focus();
    });
  }

  var sections = [];

  function makeEditor(field, section) {
    var toolbar = field.previousElementSibling;
    rovingToolbar(toolbar);
    var quill = new Quill(field, {
      formats: ["bold", "italic", "list", "fotnot"],
      modules: {
        toolbar: {container: toolbar, handlers: {fotnot: function () { insertFootnote(quill); }}},
        keyboard: {
          bindings: {
            // Tab moves the focus on, as everywhere else on the page (WCAG 2.1.2: no keyboard
            // trap); Quill would insert a tab character or indent a list item.
            tab: {key: "Tab", handler: function () { return true; }},
            indent: {key: "Tab", handler: function () { return true; }},
            outdent: {key: "Tab", shiftKey: true, handler: function () { return true; }},
            punktlista: {key: ["l", "L"], shortKey: true, shiftKey: true, handler: function (range, context) {
              quill.format("list", context.format.list === "bullet" ? false : "bullet", "user");
            }},
            fotnot: {key: ["f", "F"], shortKey: true, altKey: true, handler: function () { insertFootnote(quill); }},
            spara: {key: ["s", "S"], shortKey: true, handler: function () { section.save(); }},
          },
        },
      },
    });
    // Pasted scripts and styles are dropped whole, not turned into text.
    var Delta = Quill.import("delta");
    ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].forEach(function (tag) {
      quill.clipboard.addMatcher(tag, function () { return new Delta(); });
    });
    quill.clipboard.addMatcher(Node.ELEMENT_NODE, function (node, delta) {
      return withFormats(delta, styledFormats(node.getAttribute("style")));
    });
    // A heading (Word's "Rubrik 2", a web page's <h2>) has no format of its own in the document,
    // and came as a plain line among the paragraphs: it stays a bold line.
    ["H1", "H2", "H3", "H4", "H5", "H6"].forEach(function (tag) {
      quill.clipboard.addMatcher(tag, function (node, delta) { return withFormats(delta, {bold: true}); });
    });
    // The document has no tables: a table copied from Excel or Word came a line per cell, and
    // which number belonged to which place was lost. Each row is one line, its cells in order.
    quill.clipboard.addMatcher("TR", function (node) {
      var row = new Delta();
      Array.prototype.forEach.call(node.cells, function (cell) {
        var content = onOneLine(quill.clipboard.convert({html: cell.innerHTML, text: cell.textContent}));
        if (!content.length()) return;
        if (row.length()) row.insert(" – ");
        row = row.concat(content);
      });
      return row.length() ? row.insert("\n") : row;
    });
    var root = quill.root;
    root.setAttribute("role", "textbox");
    root.setAttribute("aria-multiline", "true");
    root.setAttribute("aria-label", field.dataset.etikett);
    if (field.dataset.beskrivning) root.setAttribute("aria-describedby", field.dataset.beskrivning);
    quill.on("text-change", function (delta, old, source) {
      if (source === "user") section.markDirty();
    });
    return quill;
  }

  function Section(el) {
    var self = this;
    this.el = el;
    this.url = el.dataset.url;
    this.version = parseInt(el.dataset.version, 10);
    this.dirty = false;
    this.status = el.querySelector(".sektion-fot .sparstatus");
    this.conflict = el.querySelector(".konflikt");
    this.editors = {};
    el.querySelectorAll(".falt").forEach(function (field) {
      self.editors[field.dataset.del] = makeEditor(field, self);
    });
    el.querySelector(".spara").addEventListener("click", function () { self.save(); });
    this.conflict.querySelector(".behall").addEventListener("click", function () { self.save(true); });
    this.conflict.querySelector(".anvand").addEventListener("click", function () { self.takeSaved(); });
  }

  // At every key typed: the status is a live region, and written anew (the same text) it was
  // spoken anew, over the officer's own typing.
  Section.prototype.markDirty = function () {
    this.dirty = true;
    this.el.classList.add("osparad");
    if (this.status.textContent !== "Ändrad, inte sparad") this.status.textContent = "Ändrad, inte sparad";
  };

  Section.prototype.payload = function () {
    var body = {text: editorHTML(this.editors.text), version: this.version};
    if (this.editors.avslutning) body.avslutning = editorHTML(this.editors.avslutning);
    return body;
  };

  Section.prototype.setContent = function (text, avslutning) {
    this.editors.text.setContents(this.editors.text.clipboard.convert({html: text || ""}), "silent");
    if (this.editors.avslutning) {
      this.editors.avslutning.setContents(this.editors.avslutning.clipboard.convert({html: avslutning || ""}), "silent");
    }
  };

  // One save of a section at a time: a second one sent before the first answered would carry
  // the same version and be refused as someone else's save. One asked for meanwhile goes when
  // the first has answered, with the version that answer gave.
  Section.prototype.save = function (overwrite) {
    var self = this;
    if (this.saving) {
      this.again = {overwrite: overwrite || (this.again && this.again.overwrite)};
      return this.saving;
    }
    if (overwrite && this.pendingVersion) this.version = this.pendingVersion;
    this.status.textContent = "Sparar …";
    var sent = this.payload();
    this.saving = postJSON(this.url, sent).then(function (result) {
      if (result.status === 200) {
        self.version = result.data.version;
        self.pendingVersion = null;
        self.closeConflict();
        var now = self.payload();
        if (now.text !== sent.text || now.avslutning !== sent.avslutning) {
          // Typed while the save was under way: that text stays, and is saved next time.
          self.status.textContent = "Sparat, men det du skrev under tiden är inte sparat än.";
          return;
        }
        self.dirty = false;
        self.el.classList.remove("osparad");
        if (result.data.text !== sent.text || (self.editors.avslutning && result.data.avslutning !== sent.avslutning)) {
          // Show what the server stored: the sanitiser removed something.
          self.setContent(result.data.text, result.data.avslutning);
        }
        // Stockholm's time, as every time the diarium shows, whatever zone the computer is set to.
        var andrat = showDocumentStatus(result.data);
        self.status.textContent = "Sparat " + new Date().toLocaleTimeString("sv-SE", {timeZone: "Europe/Stockholm"}) +
          (andrat ? "." + andrat : "");
      } else if (result.status === 409) {
        self.showConflict(result.data);
      } else {
        self.status.textContent = "Inte sparat: " + (result.data.fel || "okänt fel") + " Din text finns kvar.";
      }
    }).catch(function () {
      self.status.textContent = "Inte sparat: ingen kontakt med servern. Din text finns kvar; försök igen.";
    }).then(function () {
      self.saving = null;
      var again = self.again;
      self.again = null;
      // Not after a conflict: then the officer chooses which text to keep.
      if (again && self.dirty && (again.overwrite || self.conflict.hidden)) return self.save(again.overwrite);
    });
    return this.saving;
  };

  Section.prototype.showConflict = function (data) {
    this.pendingVersion = data.current_version;
    this.saved = data;
    // Both are sanitised HTML from the server.
    this.conflict.querySelector(".din").innerHTML = data.your_text + (data.your_avslutning || "");
    this.conflict.querySelector(".sparad").innerHTML = data.current_text + (data.current_avslutning || "");
    this.conflict.hidden = false;
    // Who saved it, and when: the officer's own other tab, or the colleague to ask.
    if (data.konflikt_rubrik) this.conflict.querySelector("h3").textContent = data.konflikt_rubrik;
    this.status.textContent = "Inte sparat: " + (data.konflikt_status || "någon annan har sparat sektionen under tiden.");
    this.conflict.querySelector("h3").focus();
  };

  Section.prototype.takeSaved = function () {
    this.setContent(this.saved.current_text, this.saved.current_avslutning);
    this.version = this.pendingVersion;
    this.pendingVersion = null;
    this.dirty = false;
    this.el.classList.remove("osparad");
    this.closeConflict();
    this.status.textContent = "Den sparade texten visas.";
  };

  // The panel closes once the officer has chosen in it, and the focus on its button would go
  // with it, leaving a keyboard or screen reader user at the top of the page: it goes to the
  // section's text instead, where the writing goes on.
  Section.prototype.closeConflict = function () {
    var focused = !this.conflict.hidden && this.conflict.contains(document.activeElement);
    this.conflict.hidden = true;
    if (focused) this.editors.text.focus();
  };

  document.querySelectorAll(".sektion").forEach(function (el) { sections.push(new Section(el)); });

  // Opened at a section's heading (the attest page's list of empty sections links there): the
  // writing starts in its field.
  // Once the page has loaded: the browser's own scroll to the heading comes after this script.
  var atHeading = /^#rubrik-\d+$/.test(window.location.hash) && document.getElementById(window.location.hash.slice(1));
  window.addEventListener("load", function () {
    sections.forEach(function (s) { if (atHeading && s.el.contains(atHeading)) s.editors.text.focus(); });
  });

  // Ctrl+S wherever the focus is, not only in a section's text (whose own binding takes it
  // first): on a Spara button, in the åtgärd list or elsewhere on the page it opened the
  // browser's "Save page as" and the text stayed unsaved. It saves the section the focus is in,
  // the header's form from within it, or else every section with unsaved text.
  var header = document.querySelector("form.uppgifter");
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || !(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
    if (event.key !== "s" && event.key !== "S") return;
    event.preventDefault();
    if (header && header.contains(document.activeElement)) {
      header.requestSubmit();
      return;
    }
    var here = sections.filter(function (s) { return s.el.contains(document.activeElement); });
    (here.length ? here : sections.filter(function (s) { return s.dirty; })).forEach(function (s) { s.save(); });
  });

  // The page's own ways on (the preview, the PDF, sending for attest) take the sections' unsaved
  // text along: they showed the text as last saved, and first the browser asked whether to leave
  // the page, for a download too, which leaves nothing. The sections are saved, and the link
  // followed once they are; a save refused stays on the page with its section saying why.
  var vidareStatus = document.getElementById("vidare-status");
  document.querySelectorAll("#vidare a").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var unsaved = sections.filter(function (s) { return s.dirty; });
      if (!unsaved.length || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      vidareStatus.textContent = "Sparar det du har skrivit först …";
      Promise.all(unsaved.map(function (s) { return s.save(); })).then(function () {
        var still = sections.filter(function (s) { return s.dirty; });
        if (still.length) {
          vidareStatus.textContent = "Inte sparat: " + still.map(function (s) {
            return s.el.querySelector("h2").firstChild.textContent.trim();
          }).join(", ") + ". Se sektionen; din text finns kvar.";
          return;
        }
        vidareStatus.textContent = "";
        window.location.assign(link.href);
      });
    });
  });

  // A field of a plain form (the header's, a new åtgärd's) that differs from what the page came
  // with: typed there and not sent. A single choice with no default shows its first option.
  function changed(field) {
    if (field.type === "hidden" || field.type === "button" || field.type === "submit") return false;
    if (field.tagName === "SELECT") {
      var options = Array.prototype.slice.call(field.options);
      if (!field.multiple && !options.some(function (o) { return o.defaultSelected; })) return field.selectedIndex > 0;
      return options.some(function (o) { return o.selected !== o.defaultSelected; });
    }
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    return field.value !== field.defaultValue;
  }

  function typedIn(box) {
    // A form the server refused is shown again with what was typed, which is still not saved.
    return !!box && (box.hasAttribute("data-osparad") ||
      Array.prototype.some.call(box.querySelectorAll("input, select, textarea"), changed));
  }

  var headerSent = false;
  // Only a sending that goes (sida.js holds a second click, and one after the session ended).
  document.addEventListener("submit", function (event) {
    if (event.target === header && !event.defaultPrevented) headerSent = true;
  });

  window.addEventListener("beforeunload", function (event) {
    var unsaved = sections.some(function (s) { return s.dirty; }) ||
      (!headerSent && typedIn(header)) || typedIn(document.getElementById("nyform"));
    // The header's own sending leaves only what else is unsaved; an officer who stays after the
    // question is asked again next time.
    headerSent = false;
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---- The measure register ----
  var register = document.getElementById("register");
  if (!register) return;
  var list = document.getElementById("valda-atgarder");
  var empty = document.getElementById("inga-valda");
  var registerStatus = document.getElementById("register-status");

  function button(label, text, onClick, step) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "knapp-liten";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    if (step) b.dataset.steg = step;
    b.addEventListener("click", onClick);
    return b;
  }

  // Every change draws the list anew, and the button pressed goes with the old list, and the
  // keyboard focus with it: a keyboard or screen reader user would start again from the top of
  // the page after each step. So the button of the list that has the focus when a change is
  // sent is noted, and the focus is given to its like once the answer is drawn.
  function focusInList() {
    var el = document.activeElement;
    if (!el || !el.dataset || !el.dataset.steg || !list.contains(el)) return null;
    var li = el.closest("li");
    return {button: el, id: li.dataset.id, step: el.dataset.steg, index: Array.prototype.indexOf.call(list.children, li)};
  }

  function giveFocusBack(was) {
    // Not when the focus is still on the button (nothing was drawn), nor when the officer has
    // gone on elsewhere while the answer was on its way.
    if (!was || document.contains(was.button)) return;
    if (document.activeElement && document.activeElement !== document.body) return;
    var li = list.querySelector('li[data-id="' + was.id + '"]');
    var target;
    if (li) {
      // The same step for the same åtgärd, or at an end of the list its other move.
      target = li.querySelector('[data-steg="' + was.step + '"]') ||
        li.querySelector('[data-steg="upp"], [data-steg="ner"]') || li.querySelector('[data-steg="bort"]');
    } else if (list.children.length) {
      // Removed: the åtgärd that took its place, or the one before it at the end of the list.
      li = list.children[Math.min(was.index, list.children.length - 1)];
      target = li.querySelector('[data-steg="bort"]');
    } else {
      target = document.getElementById("register-rubrik");  // none left
    }
    if (target) target.focus();
  }

  function chosenIds() {
    return Array.prototype.map.call(list.children, function (li) { return parseInt(li.dataset.id, 10); });
  }

  // A new list with the id at `from` moved to `to`: what is shown, and what the buttons send as
  // the order moved from, stays as the server last answered until it takes the change.
  function moved(ids, from, to) {
    var order = ids.slice();
    order.splice(to, 0, order.splice(from, 1)[0]);
    return order;
  }

  function renderChosen(items) {
    list.innerHTML = "";
    var ids = items.map(function (x) { return x.id; });
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      li.dataset.id = item.id;
      var title = document.createElement("span");
      title.className = "titel";
      title.textContent = item.titel;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " " + item.typ_namn;
      li.append(title, meta, " ");
      if (i > 0) li.append(button("Flytta upp " + item.titel, "Upp", function () {
        change({ordning: moved(ids, i, i - 1), sedd_ordning: ids}, "Ordningen är ändrad.");
      }, "upp"));
      if (i < items.length - 1) li.append(button("Flytta ner " + item.titel, "Ner", function () {
        change({ordning: moved(ids, i, i + 1), sedd_ordning: ids}, "Ordningen är ändrad.");
      }, "ner"));
      li.append(button("Ta bort " + item.titel + " ur dokumentet", "Ta bort", function () {
        change({ta_bort: item.id}, item.titel + " är borttagen.");
      }, "bort"));
      list.append(li);
    });
    empty.hidden = items.length > 0;
  }

  // One request of a kind at a time, `element` told busy meanwhile: a click while one is on its
  // way (a double click, most often) is on a button its answer redraws or makes pointless. `send`
  // returns a promise that settles, its errors already told.
  function oneAtATime(element, send) {
    var onItsWay = false;
    return function () {
      if (onItsWay) return undefined;
      onItsWay = true;
      element.setAttribute("aria-busy", "true");
      return send.apply(this, arguments).then(function () {
        onItsWay = false;
        element.removeAttribute("aria-busy");
      });
    };
  }

  // One change of the list at a time: sent twice, a second "Ta bort" was refused as one already
  // removed, and told as "Inte ändrat" after the removal had been made.
  var change = oneAtATime(list, function (body, done) {
    var was = focusInList();
    registerStatus.textContent = "Sparar …";
    return postJSON(register.dataset.url, body).then(function (result) {
      if (result.status === 200) {
        renderChosen(result.data.valda);
        giveFocusBack(was);
        markResults();
        registerStatus.textContent = done + showDocumentStatus(result.data);
      } else if (result.data && result.data.valda) {
        // Refused (someone else changed the list, or it already held the change): show it as
        // stored, with what was refused and why.
        renderChosen(result.data.valda);
        giveFocusBack(was);
        markResults();
        registerStatus.textContent = "Inte ändrat: " + result.data.fel + showDocumentStatus(result.data);
      } else {
        registerStatus.textContent = "Inte ändrat: " + (result.data.fel || "okänt fel");
      }
    }).catch(function () {
      registerStatus.textContent = "Inte ändrat: ingen kontakt med servern. Försök igen.";
    });
  });

  var results = document.getElementById("sokresultat");


  function markResults() {
    var ids = chosenIds();
    results.querySelectorAll("li").forEach(function (li) {
      var chosen = ids.indexOf(parseInt(li.dataset.id, 10)) >= 0;
      var b = li.querySelector("button");
      // Not `disabled`: a disabled button loses the focus, which the officer who pressed it had.
      if (chosen) b.setAttribute("aria-disabled", "true"); else b.removeAttribute("aria-disabled");
      b.textContent = chosen ? "Vald" : "Lägg till";
      b.setAttribute("aria-label", (chosen ? "Vald: " : "Lägg till ") + li.dataset.titel);
    });
  }

  function renderHits(hits) {

    results.innerHTML = "";
    hits.forEach(function (hit) {
      var li = document.createElement("li");
      li.dataset.id = hit.id;
      li.dataset.titel = hit.titel;
      var title = document.createElement("strong");
      title.textContent = hit.titel;
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [hit.typ_namn, hit.drogscener.join(", "), hit.aktorer.join(", "), hit.period]
        .filter(Boolean).join(" · ");
      li.append(title, " ", meta, " ");
      li.append(button("Lägg till " + hit.titel, "Lägg till", function () {
        if (this.getAttribute("aria-disabled") === "true") return;  // already in the document
        change({lagg_till: hit.id}, hit.titel + " är tillagd.");
      }));
      results.append(li);
    });
    markResults();
  }

  function search() {
    var params = new URLSearchParams();
    ["q", "typ", "drogscen", "aktor"].forEach(function (name) {
      var value = document.getElementById("sok_" + name).value;
      if (value) params.set(name, value);
    });
    var status = document.getElementById("sok-status");
    status.textContent = "Söker …";
    fetch(register.dataset.sokUrl + "?" + params.toString(), {credentials: "same-origin"})
      .then(function (response) { return answer(response, "sök"); })
      .then(function (result) {
        var data = result.data;
        if (result.status !== 200 || !data.traffar) {
          status.textContent = data.fel || "Sökningen misslyckades; försök igen.";
          return;
        }
        renderHits(data.traffar);
        var antal = data.traffar.length;
        status.textContent = antal === 0 ? "Inga träffar." : antal === 1 ? "1 träff." :
          data.fler ? "De " + antal + " första träffarna; sök med fler ord eller välj typ, drogscen eller aktör." :
          antal + " träffar.";
      })
      .catch(function () { status.textContent = "Sökningen misslyckades; försök igen."; });
  }

  document.getElementById("sok-knapp").addEventListener("click", search);
  document.getElementById("sok_q").addEventListener("keydown", function (e) {
    if (e.key === "Enter") { e.preventDefault(); search(); }
  });

  // A new åtgärd is created once, however often its button is clicked: a second click while the
  // first is on its way created it twice in the register and listed it twice in the document.
  var box = document.getElementById("nyform");

  document.getElementById("ny-knapp").addEventListener("click", oneAtATime(box, function () {
    var data = new FormData();
    box.querySelectorAll("input, select, textarea").forEach(function (input) {
      if (input.type === "checkbox") {
        if (input.checked) data.append(input.name, input.value);
      } else if (input.multiple) {
        Array.prototype.forEach.call(input.selectedOptions, function (o) { data.append(input.name, o.value); });
      } else if (input.value) {
        data.append(input.name, input.value);
      }
    });
    var status = document.getElementById("ny-status");
    // The errors of the last try go, from the page and from the fields they were told with.
    box.querySelectorAll(".faltfel-js").forEach(function (p) { p.remove(); });
    box.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id.indexOf("ny-fel-") !== 0;
      }).join(" ");
      if (described) input.setAttribute("aria-describedby", described); else input.removeAttribute("aria-describedby");
    });
    status.textContent = "Skapar …";
    return fetch(register.dataset.nyUrl, {
      method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"},
      body: data,
    }).then(answer)
      .then(function (result) {
        if (result.status === 201) {
          var atgard = result.data.atgard;
          box.querySelectorAll("input, textarea").forEach(function (input) {
            if (input.type === "checkbox") input.checked = input.defaultChecked;
            else input.value = "";
          });
          box.querySelectorAll("select").forEach(function (select) {
            Array.prototype.forEach.call(select.options, function (o, i) {
              o.selected = o.defaultSelected || (!select.multiple && i === 0);
            });
          });
          // Created and added in one transaction: the answer is the document's list as stored.
          status.textContent = atgard.titel + " är skapad.";
          renderChosen(result.data.valda);
          markResults();
          registerStatus.textContent = atgard.titel + " är skapad och tillagd i dokumentet." +
            showDocumentStatus(result.data);
          return;
        }
        // What was typed stays in the form, to be sent again.
        if (typeof result.data.fel === "string") {
          // Refused by the document (locked meanwhile): nothing was stored, and the list shows what holds.
          if (result.data.valda) {
            renderChosen(result.data.valda);
            markResults();
            var andrat = showDocumentStatus(result.data);
            if (andrat) registerStatus.textContent = andrat.trim();
          }
          status.textContent = "Åtgärden skapades inte: " + result.data.fel;
          return;
        }
        var errors = result.data.fel || {};
        Object.keys(errors).forEach(function (name) {
          var input = box.querySelector("[name='" + name + "']");
          var p = document.createElement("p");
          p.className = "faltfel faltfel-js";
          p.textContent = errors[name].join(" ");
          if (!input) { box.prepend(p); return; }
          // Read with the field by a screen reader, beside its help text; a choice of check boxes
          // with its group, after the group's legend.
          p.id = "ny-fel-" + name;
          var group = input.type === "checkbox" ? input.closest("fieldset") : null;
          if (group) {
            group.querySelector("legend").after(p);
            input = group;
          } else {
            input.before(p);
          }
          input.setAttribute("aria-invalid", "true");
          var described = input.getAttribute("aria-describedby");
          input.setAttribute("aria-describedby", described ? p.id + " " + described : p.id);
        });
        status.textContent = "Åtgärden skapades inte: rätta de markerade fälten.";
      })
      .catch(function () { status.textContent = "Ingen kontakt med servern; försök igen."; });
  }));

  // Server-rendered items get their buttons from the same code as later changes.
  renderChosen(Array.prototype.map.call(list.children, function (li) {
    return {id: parseInt(li.dataset.id, 10), titel: li.querySelector(".titel").textContent,
      typ_namn: li.querySelector(".meta").textContent.trim()};
  }));
})();
