/* Small progressive enhancements; every page works without them. Text is inserted with
   textContent only, never as HTML. */
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function debounce(fn, ms) {
    var t;
    return function () { var a = arguments, self = this; clearTimeout(t); t = setTimeout(function () { fn.apply(self, a); }, ms); };
  }
  function getJSON(url) {
    return fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }
  function postJSON(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body) }).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }
  function counted(n, one, many) { return n.toLocaleString("en-US") + " " + (n === 1 ? one : many); }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  // A refused form: keyboard focus goes to the summary of what was refused (its links lead to the fields),
  // so keyboard and screen-reader users land on it instead of at the top of the page, and the page scrolls
  // to it wherever it stands (the cite form's, far down an entity's page). The summary is #error-summary,
  // a dossier page's #refused, or a section's .error-summary; pages whose form says so in a plain error
  // message (no summary) get focus on that message.
  var refused = document.getElementById("error-summary") || document.getElementById("refused") ||
    document.querySelector("main .error-summary");
  if (!refused && document.querySelector("main form.schema-form")) {
    refused = document.querySelector("main .flash.error[role=alert]");
  }
  if (refused) {
    if (!refused.hasAttribute("tabindex")) refused.setAttribute("tabindex", "-1");
    refused.focus();
    if (refused.scrollIntoView) refused.scrollIntoView({ block: "nearest" });
  }

  // Sticky table headers (table.dense thead th) must never cover the control that has focus (WCAG 2.4.11):
  // the stylesheet's scroll-padding keeps a focused control clear of a one- or two-line header; a taller
  // header (a narrow window wraps its words) is cleared here, by scrolling the focused control below it.
  document.addEventListener("focusin", function (ev) {
    var target = ev.target;
    if (!target || !target.closest) return;
    var table = target.closest("table.dense");
    if (!table || !table.tHead || target.closest("thead")) return;
    window.requestAnimationFrame(function () {  // after the browser's own scrolling to the focused control
      if (document.activeElement !== target) return;
      var head = table.tHead.getBoundingClientRect(), box = target.getBoundingClientRect();
      if (head.top > 1 || box.top >= head.bottom) return;  // the header is not stuck, or the control is below it
      window.scrollBy(0, box.top - head.bottom - 4);
    });
  });

  // Confirmation before destructive submits.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (ev) { if (!window.confirm(form.dataset.confirm)) ev.preventDefault(); });
  });

  // One post per click: a double click sent a form twice while the first was on its way (two notes,
  // two comments, two dossiers). Registered after the confirmation, so a cancelled one sends nothing.
  // Buttons are not disabled (a disabled button's name and value would not be sent); a form that
  // leads nowhere new (a download) takes clicks again after a while, and coming back to the page does too.
  document.querySelectorAll("form[method=post], form[method=POST]").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      if (ev.defaultPrevented) return;
      if (form.dataset.sending) { ev.preventDefault(); return; }
      form.dataset.sending = "1";
      form.setAttribute("aria-busy", "true");
      setTimeout(function () { delete form.dataset.sending; form.removeAttribute("aria-busy"); }, 10000);
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending; form.removeAttribute("aria-busy");
    });
  });

  // Name autocomplete (combobox with keyboard support). Focus stays in the input; the option picked with
  // the arrow keys is announced through the input's aria-activedescendant (and aria-selected on it). How
  // many suggestions came ("3 suggestions", "No matches") is said in a polite live region beside the list
  // (the page's own, #<list id>-status, or one made here); after Escape, ArrowDown opens the list again.
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var hidden = document.getElementById(input.dataset.target);
    var items = [], active = -1, shownFor = null;  // shownFor: the text the items were fetched for
    // The list is named by the input's label ("Owner", "Associate", ...).
    var label = input.id && document.querySelector('label[for="' + CSS.escape(input.id) + '"]');
    if (label && !list.hasAttribute("aria-label") && !list.hasAttribute("aria-labelledby")) {
      if (!label.id) label.id = input.id + "-label";
      list.setAttribute("aria-labelledby", label.id);
    }
    var said = document.getElementById(list.id + "-status");
    if (!said) {
      said = el("p", null, { id: list.id + "-status", "class": "visually-hidden", role: "status", "aria-live": "polite" });
      list.parentNode.insertBefore(said, list.nextSibling);
    }
    function say(text) { if (said.textContent !== text) said.textContent = text; }
    function mark() {
      Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
      var li = active >= 0 ? list.children[active] : null;
      if (li) { input.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
      else input.removeAttribute("aria-activedescendant");
    }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; mark(); }
    function open() { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
    function choose(i) {
      var item = items[i]; if (!item) return;
      input.value = item.caption; hidden.value = item.id; close(); say("");
    }
    function fetchNow() {
      var q = input.value.trim();
      if (q.length < 2) { close(); items = []; shownFor = null; say(""); return Promise.resolve(); }
      var url = input.dataset.suggest + "?q=" + encodeURIComponent(q) + "&kinds=" + encodeURIComponent(input.dataset.kinds || "");
      return getJSON(url).then(function (data) {
        if (input.value.trim() !== q) return;  // typed on meanwhile: a newer answer follows
        items = data; shownFor = q; list.textContent = ""; active = -1;
        data.forEach(function (item, i) {
          // No raw score: the list is ranked already, and '0.06' beside an exact surname read as a verdict.
          var li = el("li", item.caption + " (" + item.kind + ")" + (item.matched_name !== item.caption ? " as " + item.matched_name : ""),
                      { role: "option", id: input.id + "-opt-" + i, "aria-selected": "false", "data-id": item.id });
          li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
          list.appendChild(li);
        });
        mark();
        if (data.length) open(); else close();
        say(data.length ? counted(data.length, "suggestion", "suggestions") + ": use the up and down arrows to choose" : "No matches");
      }).catch(function () { close(); });
    }
    var lookup = debounce(fetchNow, 200);
    input.addEventListener("input", function () { hidden.value = ""; lookup(); });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) {
        // ArrowDown opens the list again (closed with Escape, or by leaving the field), on its first option.
        if (ev.key === "ArrowDown" && !ev.altKey) {
          ev.preventDefault();
          var reopen = function () {
            if (!items.length) return;
            open(); active = 0; mark();
            say(counted(items.length, "suggestion", "suggestions") + ": use the up and down arrows to choose");
          };
          if (items.length && shownFor === input.value.trim()) reopen();
          else fetchNow().then(function () { if (!list.hidden) { active = 0; mark(); } });
        } else if (ev.key === "ArrowDown" && ev.altKey && items.length && shownFor === input.value.trim()) {
          ev.preventDefault(); open();
        }
        return;
      }
      if (ev.key === "ArrowDown") { active = Math.min(items.length - 1, active + 1); mark(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { active = Math.max(0, active - 1); mark(); ev.preventDefault(); }
      else if (ev.key === "Enter" && active >= 0) { choose(active); ev.preventDefault(); }
      else if (ev.key === "Escape") { close(); ev.preventDefault(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  });

  // Duplicate warning while entering a new entity. The warning (role=alert) is built again only when the set of
  // entries it names changes, so typing in another field does not announce it again; "it's different"
  // takes its entry out and leaves focus on the warning's next answer (or the name field once none is
  // left), and a warning with no entry left is removed rather than left as an empty alert.
  var dup = document.getElementById("duplicates");
  var entityForm = document.getElementById("entity-form");
  if (dup && entityForm && !dup.dataset.exclude) {
    var dismissed = {};  // entries the user said are different (the server carries them across a refused save)
    entityForm.querySelectorAll("input[name=confirmed_different]").forEach(function (c) { dismissed[c.value] = true; });
    var nameField = function () { return entityForm.querySelector("[name='p.name']"); };
    // The entries the warning names now: the server's warning (after a save it held back) names them too.
    var named = function () {
      return Array.prototype.map.call(dup.querySelectorAll("button.merge"), function (b) { return b.value; }).sort().join(" ");
    };
    var shown = named();
    var dropEntry = function (li) {
      var box = li.closest(".flash");
      var answers = box ? Array.prototype.slice.call(box.querySelectorAll("li button[data-different]")) : [];
      var mine = li.querySelector("button[data-different]");
      var at = answers.indexOf(mine);
      var next = answers[at + 1] || answers[at - 1] || null;
      li.remove();
      if (box && !box.querySelector("li")) box.remove();
      shown = named();
      (next || nameField() || entityForm).focus();
    };
    var check = debounce(function () {
      var props = {};
      entityForm.querySelectorAll("[name^='p.']").forEach(function (f) {
        if (!f.value.trim()) return;
        var key = f.name.slice(2); (props[key] = props[key] || []).push(f.value.trim());
      });
      if (!props.name) return;
      postJSON("/api/entities/duplicates", { kind: dup.dataset.kind, properties: props }).then(function (hits) {
        hits = hits.filter(function (h) { return h.score >= 0.85 && !dismissed[h.id]; });
        var ids = hits.map(function (h) { return h.id; }).sort().join(" ");
        if (ids === shown) return;  // the same entries: the warning stays as it is, and is not announced again
        shown = ids;
        dup.textContent = "";
        if (!hits.length) return;
        var box = el("div", null, { "class": "flash warning", role: "alert" });
        box.appendChild(el("p", "Before creating it, check these existing entries:"));
        var ul = el("ul");
        hits.forEach(function (h) {
          var li = el("li", "This looks like ");
          li.appendChild(el("a", h.caption, { href: "/entities/" + h.id }));
          li.appendChild(document.createTextNode(" (" + h.score.toFixed(2) + "): "));
          li.appendChild(el("a", "open it", { href: "/entities/" + h.id }));
          li.appendChild(document.createTextNode(" · "));
          var diff = el("button", "it's different", { type: "button", "class": "link", "data-different": h.id });
          diff.addEventListener("click", function () {
            dismissed[h.id] = true;
            entityForm.appendChild(el("input", null, { type: "hidden", name: "confirmed_different", value: h.id }));
            var flag = entityForm.querySelector("input[name=decision]") || entityForm.appendChild(el("input", null, { type: "hidden", name: "decision" }));
            flag.value = "new";
            dropEntry(li);
          });
          li.appendChild(diff);
          li.appendChild(document.createTextNode(" · "));
          li.appendChild(el("button", "merge", { type: "submit", form: "entity-form", name: "merge_into", value: h.id, "class": "link merge" }));
          ul.appendChild(li);
        });
        box.appendChild(ul); dup.appendChild(box);
      }).catch(function () {});
    }, 400);
    entityForm.addEventListener("input", check);
  }

  // Mapping picker fills the editable mapping text.
  var mappingSelect = document.querySelector("[data-mapping-select]");
  if (mappingSelect) {
    mappingSelect.addEventListener("change", function () {
      var tpl = document.querySelector('template[data-mapping="' + CSS.escape(mappingSelect.value) + '"]');
      var area = document.getElementById("scr-mapping-text");
      if (tpl && area) area.value = tpl.content.textContent || tpl.innerHTML;
    });
  }

  // Screening progress: poll the job's status until it finishes, then show the queue. The status line is a
  // live region: a part of it changes only when its text does, or a screen reader would say it every second.
  // The page reloads to show the queue; the keyboard's place is kept across the reload (the element with
  // focus, by its id or its link), instead of falling back to the top of the page.
  var FOCUS_KEY = "workbench:focus:" + location.pathname;
  function setText(node, text) { if (node && node.textContent !== String(text)) node.textContent = text; }
  function remember() {
    var at = document.activeElement;
    if (!at || at === document.body || at === document.documentElement) return;
    var mark = { id: at.id || "", href: at.getAttribute("href") || "", text: (at.textContent || "").trim().slice(0, 200) };
    try { sessionStorage.setItem(FOCUS_KEY, JSON.stringify(mark)); } catch (e) { /* storage refused: focus is not kept */ }
  }
  (function restore() {
    var mark;
    try { mark = JSON.parse(sessionStorage.getItem(FOCUS_KEY) || "null"); sessionStorage.removeItem(FOCUS_KEY); } catch (e) { mark = null; }
    if (!mark || refused) return;
    var target = mark.id ? document.getElementById(mark.id) : null;
    if (!target && mark.href) {
      target = Array.prototype.find.call(document.querySelectorAll("main a[href]"), function (a) {
        return a.getAttribute("href") === mark.href && (a.textContent || "").trim().slice(0, 200) === mark.text;
      }) || Array.prototype.find.call(document.querySelectorAll("a[href]"), function (a) { return a.getAttribute("href") === mark.href; });
    }
    if (target) target.focus({ preventScroll: true });
  })();
  var progress = document.getElementById("job-progress");
  if (progress && /^(queued|running)$/.test(progress.dataset.status)) {
    var timer = setInterval(function () {
      getJSON(progress.dataset.statusUrl).then(function (s) {
        setText(document.getElementById("job-status"), s.status);
        // The words as the page's read model says them (readmodels.job_progress): '1 hit', not '1 hits'.
        setText(document.getElementById("job-rows"), s.total_rows
          ? s.done_rows.toLocaleString("en-US") + " of " + counted(s.total_rows, "row", "rows") : counted(s.done_rows, "row", "rows"));
        setText(document.getElementById("job-hits"), counted(s.hits, "hit", "hits"));
        if (s.rows_without_name) {
          var one = s.rows_without_name === 1, count = document.getElementById("job-empty-rows");
          setText(count, s.rows_without_name);
          if (count.nextSibling) setText(count.nextSibling, " " + (one ? "row" : "rows") +
            " had no name to screen and " + (one ? "was" : "were") + " skipped.");
          var empty = document.getElementById("job-empty");
          if (empty.hidden) empty.hidden = false;
        }
        var bar = document.getElementById("job-bar"), max = s.total_rows || Math.max(1, s.done_rows);
        if (bar.max !== max) bar.max = max;
        if (bar.value !== s.done_rows) bar.value = s.done_rows;
        if (!/^(queued|running)$/.test(s.status)) {
          clearInterval(timer);
          document.getElementById("job-reload").hidden = false;
          remember();
          window.location.reload();
        }
      }).catch(function () {});
    }, 1000);
  }
})();
