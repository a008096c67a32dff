// spar3d review: every value from the server is inserted with textContent, never as HTML.
"use strict";
const TOKEN = document.querySelector('meta[name="review-token"]').content;
const TAB = Math.random().toString(36).slice(2, 10);
const state = {page: 0, size: 20, pages: 1, items: [], focus: 0, undo: []};

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function filters() {
  const out = {};
  for (const s of document.querySelectorAll("select[data-filter]")) if (s.value) out[s.dataset.filter] = s.value;
  return out;
}

function syncUrl() {
  const q = new URLSearchParams(filters());
  if (state.page) q.set("page", state.page);
  history.replaceState(null, "", "?" + q.toString());
}

function status(text) { document.getElementById("status").textContent = text; }

async function api(path, body) {
  const opts = body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "X-Review-Token": TOKEN}};
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || data.error || r.statusText);
  return data;
}

async function loadMeta() {
  const meta = await api("/api/meta");
  document.getElementById("title").textContent = `spar3d review: ${meta.root} (${meta.items} items, reviewer ${meta.reviewer})`;
  for (const s of document.querySelectorAll("select[data-filter]")) {
    for (const v of (meta.facets[s.dataset.filter] || [])) s.append(el("option", {value: v, text: v}));
  }
  if (meta.run) document.getElementById("result-filter").hidden = false;
  const q = new URLSearchParams(location.search);
  for (const s of document.querySelectorAll("select[data-filter]")) {
    const v = q.get(s.dataset.filter);
    if (v && [...s.options].some(o => o.value === v)) s.value = v;
  }
  state.page = parseInt(q.get("page") || "0", 10) || 0;
}

async function loadPage() {
  const q = new URLSearchParams(filters());
  q.set("page", state.page); q.set("size", state.size);
  const data = await api("/api/items?" + q.toString());
  Object.assign(state, {page: data.page, pages: data.pages, items: data.items, focus: 0});
  document.getElementById("pageinfo").textContent = `page ${data.page + 1} / ${data.pages} (${data.total} items)`;
  render();
  syncUrl();
}

function decisionText(d) {
  if (!d) return "undecided";
  return {accept: "accepted", reject: "rejected", skip: "skipped"}[d.action] + (d.reason ? `: ${d.reason}` : "");
}

function card(item, n) {
  const c = el("article", {class: "card", "data-key": item.key, "data-idx": String(item.idx), tabindex: "-1"});
  if (item.decision) c.classList.add(item.decision.action);
  const head = el("div", {class: "head"}, el("b", {text: item.key}));
  for (const t of [item.task, item.format, item.scene]) head.append(el("span", {class: "tag", text: t}));
  for (const f of item.flags) head.append(el("span", {class: "flag", text: f.flag, title: JSON.stringify(f.evidence)}));
  head.append(el("span", {class: "state", text: decisionText(item.decision)}));
  c.append(head);
  const imgs = el("div", {class: "imgs"});
  for (let k = 0; k < item.n_images; k++) {
    imgs.append(el("img", {src: `/api/image/${item.idx}/${k}`, loading: "lazy", alt: `image ${k + 1} of ${item.key}`}));
  }
  c.append(imgs, el("div", {class: "q", text: item.question}));
  if (item.options.length) {
    const ol = el("ul", {class: "opts"});
    const gold = item.answer.trim().slice(0, 1).toUpperCase();
    for (const o of item.options) ol.append(el("li", {class: o.letter === gold ? "gold" : "", text: `${o.letter}. ${o.text}`}));
    c.append(ol);
  }
  c.append(el("div", {class: "a", text: "answer: " + item.answer}));
  if (item.run) {
    c.append(el("div", {class: "run " + (item.run.right ? "right" : "wrong"),
      text: `model: ${item.run.prediction} (score ${item.run.score}, ${item.run.right ? "right" : "wrong"})`}));
  }
  const reason = el("input", {type: "text", placeholder: "reason for rejecting, Enter to save", "aria-label": "reason", hidden: ""});
  reason.addEventListener("keydown", e => {
    e.stopPropagation();
    if (e.key === "Enter" && reason.value.trim()) decide(n, "reject", reason.value.trim());
    if (e.key === "Escape") { reason.hidden = true; c.focus(); }
  });
  const btn = (label, fn) => { const b = el("button", {type: "button", text: label}); b.addEventListener("click", fn); return b; };
  c.append(el("div", {class: "actions"},
    btn("accept (a)", () => decide(n, "accept")),
    btn("reject (r)", () => askReason(n)),
    btn("skip (s)", () => decide(n, "skip")),
    reason));
  const prov = el("details", {}, el("summary", {text: "provenance"}),
    el("pre", {text: JSON.stringify({flags: item.flags, ...item.provenance}, null, 1)}));
  c.append(prov);
  c.addEventListener("click", () => setFocus(n));
  return c;
}

function render() {
  const main = document.getElementById("cards");
  main.replaceChildren(...state.items.map(card));
  setFocus(0, false);
}

function cards() { return [...document.querySelectorAll("#cards .card")]; }

function setFocus(n, scroll = true) {
  const all = cards();
  if (!all.length) return;
  state.focus = Math.max(0, Math.min(n, all.length - 1));
  all.forEach((c, i) => c.classList.toggle("focus", i === state.focus));
  if (scroll) all[state.focus].scrollIntoView({block: "nearest"});
}

function askReason(n) {
  setFocus(n);
  const input = cards()[n].querySelector("input");
  input.hidden = false; input.focus();
}

function show(n, decision) {
  const c = cards()[n];
  const item = state.items[n];
  item.decision = decision;
  c.classList.remove("accept", "reject", "skip");
  if (decision) c.classList.add(decision.action);
  c.querySelector(".state").textContent = decisionText(decision);
  c.querySelector("input").hidden = true;
}

async function decide(n, action, reason = "") {
  const item = state.items[n];
  if (!item) return;
  try {
    const res = await api("/api/decide", {key: item.key, action, reason, tab: TAB});
    show(n, res.decision);
    state.undo.push(n);
    status(`${action} ${item.key} saved (${res.decided} decided)`);
    setFocus(n + 1);
  } catch (e) { status(`not saved: ${e.message}`); }
}

async function undo() {
  const n = state.undo.pop();
  if (n === undefined) { status("nothing to undo in this tab"); return; }
  const item = state.items[n];
  try {
    const res = await api("/api/decide", {key: item.key, action: "undo", tab: TAB});
    show(n, res.decision);
    setFocus(n);
    status(`undone ${item.key}`);
  } catch (e) { status(`undo failed: ${e.message}`); }
}

async function exportAccepted() {
  try {
    const res = await api("/api/export", {});
    status(`exported ${res.rows} accepted items to ${res.path}`);
  } catch (e) { status(`export failed: ${e.message}`); }
}

document.addEventListener("keydown", e => {
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
  const keys = {
    j: () => setFocus(state.focus + 1), ArrowDown: () => setFocus(state.focus + 1),
    k: () => setFocus(state.focus - 1), ArrowUp: () => setFocus(state.focus - 1),
    a: () => decide(state.focus, "accept"), r: () => askReason(state.focus),
    s: () => decide(state.focus, "skip"), u: () => undo(),
    n: () => turn(1), p: () => turn(-1),
  };
  if (keys[e.key]) { e.preventDefault(); keys[e.key](); }
});

function turn(d) {
  const p = state.page + d;
  if (p < 0 || p >= state.pages) return;
  state.page = p; loadPage();
}

for (const s of document.querySelectorAll("select[data-filter]")) s.addEventListener("change", () => { state.page = 0; loadPage(); });
document.getElementById("prev").addEventListener("click", () => turn(-1));
document.getElementById("next").addEventListener("click", () => turn(1));
document.getElementById("export").addEventListener("click", exportAccepted);
loadMeta().then(loadPage).catch(e => status(`cannot load: ${e.message}`));
