// spar3d gallery viewer: renders one page of window.GALLERY; filters and page live in the URL.
"use strict";
(function () {
  const G = window.GALLERY;
  const KEYS = ["task", "format", "scene", "flag", "result"];
  const params = new URLSearchParams(location.search);
  const want = {};
  for (const k of KEYS) if (params.get(k)) want[k] = params.get(k);
  let page = Math.max(0, (parseInt(params.get("page") || "1", 10) || 1) - 1);

  function el(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") n.className = v; else if (k === "text") n.textContent = v; else n.setAttribute(k, v);
    }
    for (const c of kids) if (c) n.append(c);
    return n;
  }
  const value = (s, k) => k === "flag" ? s.flags : k === "result" ? (s.run ? [s.run.right ? "right" : "wrong"] : []) : [s[k]];
  const facets = {};
  for (const k of KEYS) facets[k] = [...new Set(G.samples.flatMap(s => value(s, k)))].filter(Boolean).sort();

  function matches(s) {
    return Object.entries(want).every(([k, v]) => value(s, k).includes(v));
  }
  function go() {
    const q = new URLSearchParams(want);
    if (page) q.set("page", String(page + 1));
    location.search = q.toString();  // a real navigation: the URL is the state
  }
  document.getElementById("title").textContent = G.title;
  const bar = document.getElementById("filters");
  for (const k of KEYS) {
    if (!facets[k].length) continue;
    const sel = el("select", {"data-key": k}, el("option", {value: "", text: "all"}));
    for (const v of facets[k]) sel.append(el("option", {value: v, text: v}));
    sel.value = want[k] || "";
    sel.addEventListener("change", () => { if (sel.value) want[k] = sel.value; else delete want[k]; page = 0; go(); });
    bar.append(el("label", {text: k + " "}, sel), " ");
  }
  const shown = G.samples.filter(matches);
  const pages = Math.max(1, Math.ceil(shown.length / G.page_size));
  page = Math.min(page, pages - 1);
  document.getElementById("pageinfo").textContent = `page ${page + 1} / ${pages} (${shown.length} of ${G.samples.length} samples)`;
  document.getElementById("prev").disabled = page === 0;
  document.getElementById("next").disabled = page >= pages - 1;
  document.getElementById("prev").addEventListener("click", () => { page -= 1; go(); });
  document.getElementById("next").addEventListener("click", () => { page += 1; go(); });
  const main = document.getElementById("cards");
  for (const s of shown.slice(page * G.page_size, (page + 1) * G.page_size)) {
    const head = el("div", {}, el("b", {text: s.id}), " ");
    for (const t of [s.task, s.format, s.scene]) if (t) head.append(el("span", {class: "tag", text: t}));
    for (const f of s.flags) head.append(el("span", {class: "flag", text: f}));
    const imgs = el("div", {});
    for (const [src, n] of s.thumbs) imgs.append(el("img", {src, loading: "lazy", alt: `image ${n} of ${s.n_images}`, title: `image ${n} of ${s.n_images}`}));
    if (s.thumbs.length < s.n_images) imgs.append(el("span", {text: ` (${s.thumbs.length} of ${s.n_images} images shown)`}));
    const card = el("div", {class: "card", "data-id": s.id}, head, imgs,
      el("div", {class: "q", text: s.q}), el("div", {class: "a", text: "answer: " + s.a}));
    if (s.run) card.append(el("div", {class: s.run.right ? "right" : "wrong", text: `model: ${s.run.prediction} (score ${s.run.score})`}));
    card.append(el("details", {}, el("summary", {text: "provenance"}), el("pre", {text: JSON.stringify(s.meta, null, 1)})));
    main.append(card);
  }
})();
