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
  // so keyboard and screen-reader users land on it instead of at the top of the page. Pages whose form
  // says so in a plain error message (no summary) get focus on that message.
  var refused = document.getElementById("error-summary");
  if (!refused && document.querySelector("main form.schema-form")) {
    refused = document.querySelector("main .flash.error[role=alert]");
  }
  if (refused) {
    if (!refused.hasAttribute("tabindex")) refused.setAttribute("tabindex", "-1");
    refused.focus();
  }

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
  // the arrow keys is announced through the input's aria-activedescendant (and aria-selected on it).
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var hidden = document.getElementById(input.dataset.target);
    var items = [], active = -1;
    // The list is named by the input's label ("Owner", "Associate", ...).
    var label = input.id && document.querySelector('label[for="' + CSS.escape(input.id) + '"]');
    if (label && !list.hasAttribute("aria-label") && !list.hasAttribute("aria-labelledby")) {
      if (!label.id) label.id = input.id + "-label";
      list.setAttribute("aria-labelledby", label.id);
    }
    function mark() {
      Array.prototype.forEach.call(list.children, function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
      var li = active >= 0 ? list.children[active] : null;
      if (li) { input.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
      else input.removeAttribute("aria-activedescendant");
    }
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; mark(); }
    function choose(i) {
      var item = items[i]; if (!item) return;
      input.value = item.caption; hidden.value = item.id; close();
    }
    var lookup = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var url = input.dataset.suggest + "?q=" + encodeURIComponent(q) + "&kinds=" + encodeURIComponent(input.dataset.kinds || "");
      getJSON(url).then(function (data) {
        items = data; list.textContent = ""; active = -1;
        data.forEach(function (item, i) {
          // No raw score: the list is ranked already, and '0.06' beside an exact surname read as a verdict.
          var li = el("li", item.caption + " (" + item.kind + ")" + (item.matched_name !== item.caption ? " as " + item.matched_name : ""),
                      { role: "option", id: input.id + "-opt-" + i, "aria-selected": "false", "data-id": item.id });
          li.addEventListener("mousedown", function (ev) { ev.preventDefault(); choose(i); });
          list.appendChild(li);
        });
        mark();
        list.hidden = data.length === 0; input.setAttribute("aria-expanded", data.length ? "true" : "false");
      }).catch(close);
    }, 200);
    input.addEventListener("input", function () { hidden.value = ""; lookup(); });
    input.addEventListener("keydown", function (ev) {
      if (list.hidden) return;
      if (ev.key === "ArrowDown") { active = Math.min(items.length - 1, active + 1); mark(); ev.preventDefault(); }
      else if (ev.key === "ArrowUp") { active = Math.max(0, active - 1); mark(); ev.preventDefault(); }
      else if (ev.key === "Enter" && active >= 0) { choose(active); ev.preventDefault(); }
      else if (ev.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  });

  // Duplicate warning while entering a new entity.
  var dup = document.getElementById("duplicates");
  var entityForm = document.getElementById("entity-form");
  if (dup && entityForm && !dup.dataset.exclude) {
    var dismissed = {};  // entries the user said are different (the server carries them across a refused save)
    entityForm.querySelectorAll("input[name=confirmed_different]").forEach(function (c) { dismissed[c.value] = true; });
    var check = debounce(function () {
      var props = {};
      entityForm.querySelectorAll("[name^='p.']").forEach(function (f) {
        if (!f.value.trim()) return;
        var key = f.name.slice(2); (props[key] = props[key] || []).push(f.value.trim());
      });
      if (!props.name) return;
      postJSON("/api/entities/duplicates", { kind: dup.dataset.kind, properties: props }).then(function (hits) {
        hits = hits.filter(function (h) { return h.score >= 0.85 && !dismissed[h.id]; });
        dup.textContent = "";
        if (!hits.length) return;
        var box = el("div", null, { "class": "flash warning", role: "alert" });
        var ul = el("ul");
        hits.forEach(function (h) {
          var li = el("li", "This looks like ");
          li.appendChild(el("a", h.caption, { href: "/entities/" + h.id }));
          li.appendChild(document.createTextNode(" (" + h.score.toFixed(2) + "): "));
          li.appendChild(el("a", "open it", { href: "/entities/" + h.id }));
          li.appendChild(document.createTextNode(" · "));
          var diff = el("button", "it's different", { type: "button", "class": "link" });
          diff.addEventListener("click", function () {
            dismissed[h.id] = true; li.remove();
            entityForm.appendChild(el("input", null, { type: "hidden", name: "confirmed_different", value: h.id }));
            var flag = entityForm.querySelector("input[name=decision]") || entityForm.appendChild(el("input", null, { type: "hidden", name: "decision" }));
            flag.value = "new";
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

  // Screening progress: poll the job's status until it finishes, then show the queue.
  var progress = document.getElementById("job-progress");
  if (progress && /^(queued|running)$/.test(progress.dataset.status)) {
    var timer = setInterval(function () {
      getJSON(progress.dataset.statusUrl).then(function (s) {
        document.getElementById("job-status").textContent = s.status;
        // The words as the page's read model says them (readmodels.job_progress): '1 hit', not '1 hits'.
        document.getElementById("job-rows").textContent = s.total_rows
          ? s.done_rows.toLocaleString("en-US") + " of " + counted(s.total_rows, "row", "rows") : counted(s.done_rows, "row", "rows");
        document.getElementById("job-hits").textContent = counted(s.hits, "hit", "hits");
        if (s.rows_without_name) {
          var one = s.rows_without_name === 1, count = document.getElementById("job-empty-rows");
          count.textContent = s.rows_without_name;
          if (count.nextSibling) count.nextSibling.textContent = " " + (one ? "row" : "rows") +
            " had no name to screen and " + (one ? "was" : "were") + " skipped.";
          document.getElementById("job-empty").hidden = false;
        }
        var bar = document.getElementById("job-bar");
        bar.max = s.total_rows || Math.max(1, s.done_rows); bar.value = s.done_rows;
        if (!/^(queued|running)$/.test(s.status)) {
          clearInterval(timer);
          document.getElementById("job-reload").hidden = false;
          window.location.reload();
        }
      }).catch(function () {});
    }, 1000);
  }
})();
