/* The network view: Cytoscape.js over the graph layer's JSON (/api/graph/...).
   Click expands a node, double-click opens its page, checkboxes filter link kinds,
   and the path button highlights the way to the nearest designated party. */
(function () {
  "use strict";
  var box = document.getElementById("cy");
  if (!box || typeof cytoscape === "undefined") return;
  var needsScript = document.getElementById("needs-script");  // shown to browsers that run no script
  if (needsScript) needsScript.remove();
  var root = box.dataset.entity;
  var status = document.getElementById("graph-status");
  var expanded = {};
  var truncated = false;  // a neighbourhood larger than the server sends: say so, or the count misleads

  // Above this many entities a force layout piles labels on one another (a vessel operator's 130
  // linked vessels): the view switches to rings around the root, and names appear as one zooms in
  // or points at a node, while the list beside the diagram names every entity.
  var CROWDED = 30;
  var cy = cytoscape({
    container: box,
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": 10, "text-wrap": "wrap", "text-max-width": 120,
        "background-color": "#2f6fb0", "width": 22, "height": 22, "color": "#1b1f24", "text-valign": "bottom", "text-margin-y": 3,
        "min-zoomed-font-size": 7,
        // A label over a line or another label stays legible on its own white ground.
        "text-background-color": "#ffffff", "text-background-opacity": 0.8, "text-background-padding": 1 } },
      { selector: "node[?designated]", style: { "background-color": "#b42318", "shape": "diamond", "width": 28, "height": 28 } },
      { selector: "node.root", style: { "border-width": 3, "border-color": "#f0a500", "font-size": 12, "font-weight": "bold",
        "min-zoomed-font-size": 0, "text-background-color": "#ffffff", "text-background-opacity": 0.85, "z-index": 10 } },
      { selector: "edge", style: { "label": "data(label)", "font-size": 8, "curve-style": "bezier", "target-arrow-shape": "triangle",
        "width": 1.5, "line-color": "#8d99a6", "target-arrow-color": "#8d99a6", "text-rotation": "autorotate", "color": "#5b6570",
        "min-zoomed-font-size": 7, "text-background-color": "#ffffff", "text-background-opacity": 0.8 } },
      // A crowded view names its links only where one points (the edge table lists them all).
      { selector: "edge.quiet", style: { "label": "" } },
      // Edges on the path get thicker; nodes only a border (a node's "width" is its size, not its outline).
      { selector: "edge.path", style: { "line-color": "#f0a500", "target-arrow-color": "#f0a500", "width": 4 } },
      { selector: "node.path", style: { "border-width": 4, "border-color": "#f0a500" } },
      // What the pointer rests on, and its neighbours, are named at any zoom, above the rest.
      { selector: "node.near", style: { "min-zoomed-font-size": 0, "font-size": 12, "text-background-color": "#ffffff",
        "text-background-opacity": 0.9, "z-index": 20 } },
      { selector: "edge.near", style: { "label": "data(label)", "min-zoomed-font-size": 0, "font-size": 10, "width": 3,
        "line-color": "#1b1f24", "target-arrow-color": "#1b1f24", "z-index": 20 } },
      { selector: ".filtered", style: { "display": "none" } }
    ]
  });
  window.workbenchGraph = cy;  // for keyboard users' devtools and for the browser tests

  // The diagram follows its box: a narrower window (zoom at 200-400 %) shrinks the box, and the canvases, drawn
  // at the old width, would keep the page scrolling sideways. Once per frame, however many changes come.
  if (typeof ResizeObserver !== "undefined") {
    var resizing = false;
    new ResizeObserver(function () {
      if (resizing) return;
      resizing = true;
      window.requestAnimationFrame(function () { resizing = false; cy.resize(); });
    }).observe(box);
  }

  function hiddenKinds() {
    var off = {};
    document.querySelectorAll("#kind-filter input[type=checkbox]").forEach(function (c) { if (!c.checked) off[c.value] = true; });
    return off;
  }
  function applyFilter() {
    var off = hiddenKinds();
    // What stays is what the root still reaches through the kinds shown: an unchecked kind takes
    // with it every entity it alone connected, however far (not only those left with no link).
    var reached = {};
    reached[root] = true;
    var queue = [root];
    while (queue.length) {
      var id = queue.shift();
      cy.getElementById(id).connectedEdges().forEach(function (e) {
        if (off[e.data("kind")]) return;
        var other = e.source().id() === id ? e.target().id() : e.source().id();
        if (!reached[other]) { reached[other] = true; queue.push(other); }
      });
    }
    cy.nodes().forEach(function (n) { n.toggleClass("filtered", !reached[n.id()]); });
    cy.edges().forEach(function (e) {
      e.toggleClass("filtered", !!off[e.data("kind")] || !reached[e.source().id()] || !reached[e.target().id()]);
    });
    cy.edges().toggleClass("quiet", crowded());
    renderTable();
  }
  function renderTable() {
    var body = document.querySelector("#edge-table tbody");
    body.textContent = "";
    cy.edges().not(".filtered").forEach(function (e) {
      var tr = document.createElement("tr");
      [e.source().data("label"), e.data("label") || e.data("kind"), e.target().data("label")].forEach(function (t) {
        var td = document.createElement("td"); td.textContent = t; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    renderNodes();
    status.textContent = cy.nodes().not(".filtered").length + " entities, " + cy.edges().not(".filtered").length + " links shown." +
      (crowded() ? " Names appear as you zoom in (scroll) or point at a node; the list below names every one." : "") +
      (truncated ? " Only part of a larger neighbourhood is drawn; workbench graph export --around exports all of it." : "");
  }
  // The keyboard's way through the diagram: each entity drawn, with a link to its page and a button
  // that expands its neighbours (what a click on the node does).
  function renderNodes() {
    var list = document.getElementById("node-list");
    list.textContent = "";
    cy.nodes().not(".filtered").sort(function (a, b) { return a.data("label").localeCompare(b.data("label")); })
      .forEach(function (n) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/entities/" + encodeURIComponent(n.id());
        a.textContent = n.data("label");
        li.appendChild(a);
        if (n.data("designated")) li.appendChild(document.createTextNode(" (designated)"));
        if (!expanded[n.id()]) {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "link";
          button.textContent = "Expand";
          button.setAttribute("aria-label", "Expand the neighbours of " + n.data("label"));
          button.addEventListener("click", function () { load(n.id()).then(function () { focusAfterExpand(n.id()); }); });
          li.appendChild(document.createTextNode(" "));
          li.appendChild(button);
        }
        list.appendChild(li);
      });
  }
  function focusAfterExpand(id) {  // the button is gone once expanded: keep the keyboard where it was
    var links = document.querySelectorAll("#node-list a");
    for (var i = 0; i < links.length; i++) {
      if (links[i].getAttribute("href") === "/entities/" + encodeURIComponent(id)) { links[i].focus(); return; }
    }
  }
  function crowded() { return cy.nodes().not(".filtered").length > CROWDED; }
  // Steps from the root over the links shown: the rings of the crowded layout.
  function depths() {
    var depth = {};
    depth[root] = 0;
    var queue = [root];
    while (queue.length) {
      var id = queue.shift();
      cy.getElementById(id).connectedEdges().not(".filtered").forEach(function (e) {
        var other = e.source().id() === id ? e.target().id() : e.source().id();
        if (depth[other] === undefined) { depth[other] = depth[id] + 1; queue.push(other); }
      });
    }
    return depth;
  }
  function arrange() {
    var shown = cy.elements().not(".filtered");
    if (!crowded()) {
      // Longer edges and a stronger push between nodes than cose's defaults: labels wrap to 120 px under nodes
      // of 22, and at the defaults the neighbours' names lay across each other.
      shown.layout({ name: "cose", animate: false, fit: true, padding: 30, randomize: false, idealEdgeLength: 110,
        nodeRepulsion: 900000, nodeOverlap: 40, componentSpacing: 80 }).run();
      return;
    }
    var depth = depths();
    var deepest = 0;
    Object.keys(depth).forEach(function (id) { deepest = Math.max(deepest, depth[id]); });
    shown.layout({ name: "concentric", animate: false, fit: true, padding: 30, avoidOverlap: true, minNodeSpacing: 12,
      nodeDimensionsIncludeLabels: true,
      concentric: function (n) { return deepest - (depth[n.id()] === undefined ? deepest : depth[n.id()]); },
      levelWidth: function () { return 1; } }).run();
  }
  function add(data) {
    var added = cy.collection();
    (data.nodes || []).forEach(function (n) { if (cy.getElementById(n.data.id).empty()) added = added.union(cy.add({ group: "nodes", data: n.data })); });
    (data.edges || []).forEach(function (e) {
      if (cy.getElementById(e.data.id).empty() && !cy.getElementById(e.data.source).empty() && !cy.getElementById(e.data.target).empty())
        added = added.union(cy.add({ group: "edges", data: e.data }));
    });
    return added;
  }
  function load(id) {
    status.textContent = "Loading…";
    return fetch("/api/graph/" + encodeURIComponent(id) + "?depth=1", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("the graph could not be loaded (" + r.status + ")"); return r.json(); })
      .then(function (data) {
        expanded[id] = true;
        if (data.truncated) truncated = true;
        var added = add(data);
        applyFilter();
        if (added.length) arrange();
        return added;
      })
      .catch(function (err) { status.textContent = String(err.message || err); });
  }

  load(root).then(function () { legible(cy.getElementById(root).addClass("root"), 12); });
  cy.on("tap", "node", function (ev) { var id = ev.target.id(); if (!expanded[id]) load(id); });
  // Labels scale with the zoom; the root's name and those pointed at keep a readable size on screen.
  function legible(elements, px) {
    var zoom = cy.zoom();
    elements.forEach(function (el) {
      el.style({ "font-size": Math.max(px, px / zoom), "text-max-width": Math.max(120, 120 / zoom) });
      if (el.isEdge()) el.style("width", Math.max(3, 2 / zoom));
    });
  }
  // Zoomed out over a crowded ring, nodes keep a size one can see and point at.
  var sizedAt = null;  // the zoom the node sizes were last set for (null: not set)
  function visible() {
    var zoom = cy.zoom();
    if (!crowded()) {
      if (sizedAt !== null) { cy.nodes().removeStyle("width height"); sizedAt = null; }
      return;
    }
    if (sizedAt !== null && Math.max(28, 13 / zoom) === Math.max(28, 13 / sizedAt) &&
        Math.max(22, 10 / zoom) === Math.max(22, 10 / sizedAt)) return;  // zoomed in past the floor: nothing changes
    sizedAt = zoom;
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var size = n.data("designated") ? Math.max(28, 13 / zoom) : Math.max(22, 10 / zoom);
        n.style({ "width": size, "height": size });
      });
    });
  }
  // A wheel sends many zoom events: the sizes follow once per frame, not once per event.
  var framed = false;
  cy.on("zoom", function () {
    if (framed) return;
    framed = true;
    window.requestAnimationFrame(function () {
      framed = false;
      visible(); legible(cy.nodes(".root"), 12); legible(cy.elements(".near"), 12);
    });
  });
  cy.on("layoutstop", function () { visible(); legible(cy.nodes(".root"), 12); });
  cy.on("mouseover", "node", function (ev) { legible(ev.target.closedNeighborhood().addClass("near"), 12); });
  cy.on("mouseout", "node", function () {
    var near = cy.elements(".near").removeClass("near");
    near.nodes().not(".root").removeStyle("font-size text-max-width");
    near.edges().removeStyle("font-size text-max-width width");
  });
  cy.on("dbltap", "node", function (ev) { window.location.href = "/entities/" + encodeURIComponent(ev.target.id()); });
  document.querySelectorAll("#kind-filter input[type=checkbox]").forEach(function (c) { c.addEventListener("change", function () { applyFilter(); visible(); }); });
  document.getElementById("fit-button").addEventListener("click", function () { cy.fit(undefined, 30); });

  document.getElementById("path-button").addEventListener("click", function () {
    var steps = document.getElementById("path-steps");
    steps.textContent = "";
    status.textContent = "Looking for the nearest designated party…";
    fetch("/api/graph/" + encodeURIComponent(root) + "/path", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error("no path available (" + r.status + ")"); return r.json(); })
      .then(function (path) {
        cy.elements().removeClass("path");
        if (!path.found) { status.textContent = "No designated party within reach."; return; }
        if (!path.steps.length) {  // the entity is itself designated: there is no path to draw
          cy.getElementById(root).addClass("path");
          status.textContent = cy.getElementById(root).data("label") + " is itself a designated party.";
          return;
        }
        var missing = path.nodes.filter(function (id) { return cy.getElementById(id).empty() || !expanded[id]; });
        return Promise.all(missing.map(load)).then(function () {
          path.nodes.forEach(function (id) { cy.getElementById(id).addClass("path"); });
          path.steps.forEach(function (s) {
            var edge = cy.getElementById(s.link_id);
            if (edge.empty()) edge = cy.edges().filter(function (e) { return e.data("kind") === s.kind &&
              ((e.data("source") === s.source && e.data("target") === s.target) || (e.data("source") === s.target && e.data("target") === s.source)); });
            edge.addClass("path");
            var li = document.createElement("li");
            // the link kind's label from the schema ("owns"), as the edge table shows it; the kind name only if it has none
            li.textContent = cy.getElementById(s.source).data("label") + " — " + (s.label || s.kind) + " — " + cy.getElementById(s.target).data("label") +
              ((s.citations || []).length ? " (" + s.citations.map(function (c) { return c.title; }).join("; ") + ")" : " (no source cited)");
            steps.appendChild(li);
          });
          status.textContent = "Path of " + path.length + " link(s) to a designated party highlighted.";
        });
      })
      .catch(function (err) { status.textContent = String(err.message || err); });
  });
})();
