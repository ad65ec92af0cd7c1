/*
 * TalentMatch career-fair search widget: <talentmatch-search>.
 *
 *   <script src="https://HOST/widget/v1/talentmatch.js" defer></script>
 *   <talentmatch-search api="https://HOST" key="pk_..." fair="szu-2026-autumn" lang="zh">
 *   </talentmatch-search>
 *
 * A custom element with its own shadow DOM: the host page's CSS does not reach inside and
 * the widget's CSS does not leak out. Theme it with CSS custom properties on the element
 * (--tm-primary, --tm-on-primary, --tm-text, --tm-muted, --tm-bg, --tm-surface, --tm-border,
 * --tm-mark, --tm-focus, --tm-radius, --tm-font). No framework, no cookies, no storage, no
 * third-party requests: it talks only to the TalentMatch API named by `api` (default: the
 * host this script came from), with the fair's public key.
 */
(() => {
  "use strict";
  if (customElements.get("talentmatch-search")) return;

  // Where this script was served from: the API's default address.
  const SCRIPT_ORIGIN = document.currentScript && document.currentScript.src
    ? new URL(document.currentScript.src).origin : location.origin;
  const FACETS = ["city", "district", "employment_type", "education", "salary", "company"];
  const DEBOUNCE_MS = 250;

  const TEXT = {
    zh: {
      search: "搜索职位", placeholder: "职位、公司或技能，如：Python 实习 南山",
      switchTo: "EN", switchLabel: "Switch to English",
      city: "城市", district: "区域", employment_type: "工作类型", education: "学历要求",
      salary: "月薪", company: "公司", any: "不限", filters: "筛选", clear: "清除筛选",
      // atLeast: the API counted a lower bound (total_relation "gte").
      total: (n, atLeast) => (atLeast ? `${n}+ 个职位` : `共 ${n} 个职位`), loading: "正在搜索…",
      interpreted: (places) => `（已按城市“${places}”筛选）`,
      empty: "没有找到匹配的职位。试试更短的关键词，或清除筛选条件。",
      more: (shown, total, atLeast) => `加载更多（已显示 ${shown} / ${total}${atLeast ? "+" : ""}）`,
      results: "搜索结果", skills: "技能", posted: "发布于", details: "查看详情",
      apply: "申请该职位", close: "关闭", description: "职位描述", required: "必备技能",
      preferred: "加分技能", experience: (y) => `${y}年以上经验`, remote: "可远程",
      negotiable: "薪资面议", perMonth: "/月", months: (m) => `·${m}薪`, retry: "重试",
      errors: {
        network: "无法连接招聘服务：网络中断，或本网页未获授权使用此招聘会的搜索。",
        origin_not_allowed: "本网页未获授权使用此招聘会的搜索。",
        unauthorized: "招聘会搜索密钥无效或已过期，请联系主办方。",
        rate_limited: "搜索过于频繁，请稍后再试。",
        config: "组件缺少 key 或 fair 属性。",
        other: "搜索暂时不可用，请稍后再试。",
      },
    },
    en: {
      search: "Search jobs", placeholder: "Job title, company or skill, e.g. Python internship",
      switchTo: "中文", switchLabel: "切换到中文",
      city: "City", district: "District", employment_type: "Job type", education: "Education",
      salary: "Monthly pay", company: "Company", any: "Any", filters: "Filters",
      clear: "Clear filters",
      total: (n, atLeast) => (atLeast ? `${n}+ jobs` : `${n} job${n === 1 ? "" : "s"}`),
      interpreted: (places) => ` (in ${places}, from your search words)`,
      loading: "Searching…",
      empty: "No matching jobs. Try fewer words or clear the filters.",
      more: (shown, total, atLeast) => `Load more (${shown} of ${total}${atLeast ? "+" : ""} shown)`,
      results: "Search results", skills: "Skills", posted: "Posted", details: "View details",
      apply: "Apply for this job", close: "Close", description: "Description",
      required: "Required skills", preferred: "Nice to have",
      experience: (y) => `${y}+ years' experience`, remote: "Remote possible",
      negotiable: "Pay negotiable", perMonth: "/month", months: (m) => ` · ${m} months' pay`,
      retry: "Retry",
      errors: {
        network: "Cannot reach the job search: the network is down, or this page is not authorized to use this fair's search.",
        origin_not_allowed: "This page is not authorized to use this fair's search.",
        unauthorized: "The fair's search key is invalid or expired; please tell the organizers.",
        rate_limited: "Too many searches; please wait a moment and try again.",
        config: "The widget needs its key and fair attributes.",
        other: "Search is unavailable right now; please try again later.",
      },
    },
  };
  const JOB_TYPES = {
    zh: { full_time: "全职", part_time: "兼职", internship: "实习", flexible: "灵活用工", dispatch: "劳务派遣" },
    en: { full_time: "Full-time", part_time: "Part-time", internship: "Internship", flexible: "Flexible", dispatch: "Agency staffing" },
  };
  const EDUCATION = {
    zh: { none: "学历不限", high_school: "高中", associate: "大专", bachelor: "本科", master: "硕士", doctorate: "博士" },
    en: { none: "Any education", high_school: "High school", associate: "Associate degree", bachelor: "Bachelor's", master: "Master's", doctorate: "Doctorate" },
  };

  const STYLE = `
:host { display: block; contain: content; }
:host([hidden]), [hidden] { display: none !important; }
.root {
  --p: var(--tm-primary, #0b57d0); --on-p: var(--tm-on-primary, #ffffff);
  --fg: var(--tm-text, #1b1f24); --muted: var(--tm-muted, #4f5863);
  --bg: var(--tm-bg, #ffffff); --surface: var(--tm-surface, #f4f6f9);
  --line: var(--tm-border, #c9d0d9); --mark: var(--tm-mark, #ffe38a);
  --focus: var(--tm-focus, #0b57d0); --r: var(--tm-radius, 8px);
  container-type: inline-size; box-sizing: border-box; text-align: left;
  font: 400 15px/1.55 var(--tm-font, system-ui, -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif);
  color: var(--fg); background: var(--bg); padding: 16px; border-radius: var(--r);
  letter-spacing: normal; text-transform: none; font-style: normal;
}
.root *, .root *::before, .root *::after { box-sizing: border-box; font: inherit; color: inherit; letter-spacing: inherit; }
h2, h3, p, ul { margin: 0; padding: 0; }
ul { list-style: none; }
.top { display: flex; gap: 8px; align-items: center; margin-bottom: 6px; }
.fair { font-size: 17px; font-weight: 600; flex: 1; overflow-wrap: anywhere; }
form { display: flex; gap: 8px; margin-bottom: 10px; }
input[type=search] { flex: 1; min-width: 0; padding: 9px 12px; border: 1px solid var(--line); border-radius: var(--r); background: var(--bg); font-size: 16px; }
input::placeholder { color: var(--muted); opacity: 1; }
button, select { cursor: pointer; border-radius: var(--r); }
.btn { padding: 8px 14px; border: 1px solid var(--p); background: var(--p); color: var(--on-p); font-weight: 600; }
.btn.quiet { background: var(--bg); color: var(--p); }
.lang { padding: 6px 10px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); font-size: 14px; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
fieldset { border: 0; padding: 0; margin: 0 0 10px; display: grid; gap: 8px; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
legend { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); gap: 2px; min-width: 0; }
select { padding: 7px 8px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); font-size: 14px; width: 100%; }
select:disabled { opacity: .6; cursor: not-allowed; }
.bar { display: flex; justify-content: space-between; align-items: center; gap: 8px; min-height: 32px; margin-bottom: 6px; color: var(--muted); font-size: 14px; }
.link { border: 0; background: none; color: var(--p); text-decoration: underline; padding: 4px; font-size: 14px; }
.card { border: 1px solid var(--line); border-radius: var(--r); padding: 12px 14px; margin-bottom: 10px; background: var(--bg); }
.card h3 { font-size: 16px; font-weight: 600; line-height: 1.4; }
.open { border: 0; background: none; padding: 0; text-align: left; color: var(--p); font-weight: 600; text-decoration: none; overflow-wrap: anywhere; }
.open:hover { text-decoration: underline; }
.meta { color: var(--muted); font-size: 14px; margin-top: 2px; overflow-wrap: anywhere; }
.pay { color: var(--fg); font-weight: 600; }
.snippet { margin-top: 6px; font-size: 14px; overflow-wrap: anywhere; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.chips li { background: var(--surface); border: 1px solid var(--line); border-radius: 999px; padding: 1px 10px; font-size: 13px; }
.posted { color: var(--muted); font-size: 13px; margin-top: 6px; }
mark { background: var(--mark); color: var(--fg); border-radius: 2px; padding: 0 1px; }
.state { padding: 18px; border: 1px dashed var(--line); border-radius: var(--r); text-align: center; color: var(--muted); }
.error { border: 1px solid #b3261e; background: #fdecea; color: #6e1414; padding: 12px 14px; border-radius: var(--r); margin-bottom: 10px; display: flex; gap: 10px; align-items: center; justify-content: space-between; }
.more { display: block; margin: 4px auto 0; }
dialog { width: min(720px, calc(100vw - 24px)); max-height: calc(100vh - 48px); border: 1px solid var(--line); border-radius: var(--r); padding: 0; color: var(--fg); background: var(--bg); }
dialog::backdrop { background: rgba(20, 24, 31, .55); }
.sheet { padding: 18px 20px; }
.sheet h2 { font-size: 19px; font-weight: 700; margin-bottom: 4px; overflow-wrap: anywhere; }
.sheet h3 { font-size: 15px; font-weight: 600; margin: 14px 0 4px; }
.desc { white-space: pre-line; overflow-wrap: anywhere; }
.actions { display: flex; gap: 10px; justify-content: flex-end; margin-top: 18px; flex-wrap: wrap; }
a.btn { text-decoration: none; display: inline-block; }
@container (max-width: 480px) {
  .root { padding: 10px; }
  fieldset { grid-template-columns: 1fr 1fr; }
  form .btn { padding: 8px 10px; }
}
`;

  /** Build an element: h("p", {class: "x"}, "text", child). Text is always text, never HTML. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (name in el && name !== "list" && name !== "form") el[name] = value;
      else el.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) el.append(child);
    }
    return el;
  }

  const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
  /** An API highlight ("HTML-escaped text with <em> around matches") as DOM nodes. */
  function marked(snippet) {
    const decode = (s) => s.replace(/&(amp|lt|gt|quot|#x27|#39);/g, (e) => ENTITIES[e]);
    return snippet.split(/(<em>.*?<\/em>)/g).filter(Boolean).map((part) =>
      part.startsWith("<em>") ? h("mark", {}, decode(part.slice(4, -5))) : document.createTextNode(decode(part)));
  }

  class TalentMatchSearch extends HTMLElement {
    static get observedAttributes() { return ["lang", "key", "fair", "api"]; }

    constructor() {
      super();
      this._shadow = this.attachShadow({ mode: "open" });
      this._lang = null;
      this._query = "";
      this._filters = {};
      this._hits = [];
      this._total = 0;
      this._atLeast = false;
      this._exhausted = false;
      this._facets = {};
      this._interpreted = [];
      this._fair = null;
      this._seq = 0;
      this._timer = 0;
      this._built = false;
    }

    connectedCallback() {
      if (!this._built) this._build();
      this._loadFair();
      this._search();
    }

    disconnectedCallback() {
      clearTimeout(this._timer);
      if (this._inflight) this._inflight.abort();
    }

    attributeChangedCallback(name, before, after) {
      if (!this._built || before === after) return;
      if (name === "lang") this._setLang(after);
      else { this._fair = null; this._loadFair(); this._search(); }
    }

    get language() {
      if (this._lang) return this._lang;
      const wanted = (this.getAttribute("lang") || navigator.language || "en").toLowerCase();
      return wanted.startsWith("zh") ? "zh" : "en";
    }

    get t() { return TEXT[this.language]; }

    get _api() { return (this.getAttribute("api") || SCRIPT_ORIGIN).replace(/\/+$/, ""); }

    // -- the static skeleton -------------------------------------------------------------

    _build() {
      this._built = true;
      const uid = Math.random().toString(36).slice(2, 8);
      this._ids = { input: `tm-q-${uid}`, status: `tm-s-${uid}`, dlgTitle: `tm-d-${uid}` };
      this._fairName = h("h2", { class: "fair" });
      this._langButton = h("button", { type: "button", class: "lang", onclick: () => this._setLang(this.language === "zh" ? "en" : "zh") });
      this._input = h("input", {
        type: "search", id: this._ids.input, autocomplete: "off", enterKeyHint: "search",
        oninput: () => this._debounced(),
      });
      this._inputLabel = h("label", { htmlFor: this._ids.input, class: "sr", style: "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)" });
      this._searchButton = h("button", { type: "submit", class: "btn" });
      const form = h("form", { role: "search", onsubmit: (e) => { e.preventDefault(); clearTimeout(this._timer); this._search(); } },
        this._inputLabel, this._input, this._searchButton);
      this._selects = {};
      this._selectLabels = {};
      this._legend = h("legend");
      const fieldset = h("fieldset", {}, this._legend);
      for (const facet of FACETS) {
        const select = h("select", { onchange: () => this._pick(facet, select.value) });
        this._selects[facet] = select;
        this._selectLabels[facet] = h("span");
        fieldset.append(h("label", {}, this._selectLabels[facet], select));
      }
      this._status = h("p", { id: this._ids.status, role: "status", "aria-live": "polite" });
      this._clear = h("button", { type: "button", class: "link", hidden: true, onclick: () => { this._filters = {}; this._search(); } });
      this._error = h("div", { class: "error", role: "alert", hidden: true });
      this._list = h("ul", { class: "list" });
      this._more = h("button", { type: "button", class: "btn quiet more", hidden: true, onclick: () => this._search({ append: true }) });
      this._dialog = h("dialog", { "aria-labelledby": this._ids.dlgTitle, onclose: () => this._afterClose() });
      this._root = h("div", { class: "root", part: "root" },
        h("div", { class: "top" }, this._fairName, this._langButton),
        form, fieldset,
        h("div", { class: "bar" }, this._status, this._clear),
        this._error, this._list, this._more, this._dialog);
      this._shadow.append(h("style", {}, STYLE), this._root);
      this._renderTexts();
    }

    _renderTexts() {
      const t = this.t;
      this._root.setAttribute("lang", this.language === "zh" ? "zh-CN" : "en");
      this._langButton.textContent = t.switchTo;
      this._langButton.setAttribute("aria-label", t.switchLabel);
      this._input.placeholder = t.placeholder;
      this._inputLabel.textContent = t.search;
      this._searchButton.textContent = t.search;
      this._legend.textContent = t.filters;
      this._clear.textContent = t.clear;
      this._list.setAttribute("aria-label", t.results);
      for (const facet of FACETS) this._selectLabels[facet].textContent = t[facet];
      this._fairName.textContent = this._fair ? this._fair.name : "";
    }

    _setLang(lang) {
      this._lang = lang === "zh" || (lang || "").toLowerCase().startsWith("zh") ? "zh" : "en";
      this._renderTexts();
      this._search();  // facet labels come from the API in the new language
    }

    // -- talking to the API ----------------------------------------------------------------

    async _request(path, init) {
      const key = this.getAttribute("key");
      if (!key || !this.getAttribute("fair")) throw Object.assign(new Error("config"), { code: "config" });
      let response;
      try {
        response = await fetch(this._api + path, {
          ...init, credentials: "omit", cache: "no-store", referrerPolicy: "strict-origin-when-cross-origin",
          headers: { Authorization: `Bearer ${key}`, "Accept-Language": this.language, ...(init && init.headers) },
        });
      } catch (error) {
        if (error.name === "AbortError") throw error;
        throw Object.assign(new Error("network"), { code: "network" });
      }
      if (!response.ok) {
        let code = response.status === 429 ? "rate_limited" : response.status === 401 ? "unauthorized" : "other";
        try { code = (await response.json()).error.code || code; } catch (_) { /* not JSON */ }
        throw Object.assign(new Error(code), { code });
      }
      return response.json();
    }

    async _loadFair() {
      if (this._fair || !this.getAttribute("fair")) return;
      try {
        this._fair = await this._request(`/v1/fairs/${encodeURIComponent(this.getAttribute("fair"))}`);
        this._fairName.textContent = this._fair.name;
      } catch (_) { /* the search reports the error */ }
    }

    _debounced() {
      clearTimeout(this._timer);
      this._timer = setTimeout(() => this._search(), DEBOUNCE_MS);
    }

    _pick(facet, value) {
      const filters = { ...this._filters };
      if (value === "") delete filters[facet]; else filters[facet] = value;
      if (facet === "city") delete filters.district;
      this._filters = filters;
      this._search();
    }

    _apiFilters() {
      const f = this._filters, out = {};
      if (f.city) out.city = f.city;
      if (f.city && f.district) out.district = f.district;
      if (f.employment_type) out.employment_type = f.employment_type;
      if (f.education) out.education = { at_least: f.education, at_most: f.education };
      if (f.company) out.company = f.company;
      if (f.salary) {
        const [low, high] = f.salary.split(":");
        out.salary_min = Number(low);
        if (high) out.salary_max = Number(high);
      }
      return out;
    }

    async _search({ append = false } = {}) {
      clearTimeout(this._timer);
      if (this._inflight) this._inflight.abort();
      const seq = ++this._seq;
      const controller = new AbortController();
      this._inflight = controller;
      const pageSize = Math.min(50, Math.max(1, Number(this.getAttribute("page-size")) || 10));
      const page = append ? Math.floor(this._hits.length / pageSize) + 1 : 1;
      this._query = this._input.value.trim();
      this._list.setAttribute("aria-busy", "true");
      if (!append) this._status.textContent = this.t.loading;
      try {
        const body = { query: this._query, filters: this._apiFilters(), page, page_size: pageSize, facets: FACETS };
        const result = await this._request("/v1/search/jobs", {
          method: "POST", body: JSON.stringify(body), signal: controller.signal,
          headers: { "Content-Type": "application/json" },
        });
        if (seq !== this._seq) return;  // a newer search has started
        const firstNew = append ? this._hits.length : 0;
        this._hits = append ? this._hits.concat(result.hits) : result.hits;
        this._total = result.total;
        this._atLeast = result.total_relation === "gte";
        // A lower bound may overstate what paging reaches: an empty page ends "load more".
        this._exhausted = append && result.hits.length === 0;
        this._facets = result.facets || {};
        this._interpreted = (result.interpreted && result.interpreted.city) || [];
        this._error.hidden = true;
        this._render(firstNew, append);
      } catch (error) {
        if (error.name === "AbortError" || seq !== this._seq) return;
        this._showError(error.code || "other");
      } finally {
        if (seq === this._seq) this._list.removeAttribute("aria-busy");
      }
    }

    _showError(code) {
      const t = this.t;
      this._hits = [];
      this._list.replaceChildren();
      this._more.hidden = true;
      this._status.textContent = "";
      this._error.replaceChildren(
        h("span", {}, t.errors[code] || t.errors.other),
        code === "config" ? null : h("button", { type: "button", class: "btn quiet", onclick: () => this._search() }, t.retry));
      this._error.hidden = false;
    }

    // -- rendering -------------------------------------------------------------------------

    _render(firstNew, append) {
      const t = this.t;
      this._renderFacets();
      // A city named in the query ("Python 深圳") filters by that city: say so.
      this._status.textContent = t.total(this._total, this._atLeast)
        + (this._interpreted.length ? t.interpreted(this._interpreted.join(", ")) : "");
      this._clear.hidden = Object.keys(this._filters).length === 0;
      if (!append) this._list.replaceChildren();
      if (this._hits.length === 0) {
        this._list.append(h("li", { class: "state" }, t.empty));
      }
      const cards = this._hits.slice(firstNew).map((hit) => this._card(hit));
      this._list.append(...cards);
      const shown = this._hits.length;
      this._more.hidden = shown >= this._total || shown === 0 || this._exhausted;
      this._more.textContent = t.more(shown, this._total, this._atLeast);
      // Keyboard users who asked for more land on the first new job.
      if (append && cards.length) cards[0].querySelector(".open").focus();
    }

    _renderFacets() {
      const t = this.t;
      for (const facet of FACETS) {
        const select = this._selects[facet];
        const current = this._filters[facet] || "";
        const values = (this._facets[facet] || []).filter((v) => facet !== "district" || v.city === this._filters.city);
        const options = [h("option", { value: "" }, t.any)];
        let seen = current === "";
        for (const v of values) {
          const value = facet === "salary" ? `${v.min}:${v.max === null ? "" : v.max}` : v.value;
          const label = facet === "salary" ? `${v.label}${t.perMonth}` : v.label;
          seen = seen || value === current;
          options.push(h("option", { value }, `${label} (${v.count})`));
        }
        if (!seen) options.push(h("option", { value: current }, `${current} (0)`));
        select.replaceChildren(...options);
        select.value = current;
        select.disabled = facet === "district" && !this._filters.city;
      }
    }

    _salary(job) {
      const t = this.t, k = (x) => `${Math.round(x / 100) / 10}K`;
      if (job.salary_min === null && job.salary_max === null) return t.negotiable;
      const low = job.salary_min ?? job.salary_max, high = job.salary_max ?? job.salary_min;
      const range = low === high ? k(low) : `${k(low)}-${k(high)}`;
      return range + t.perMonth + (job.salary_months && job.salary_months > 12 ? t.months(job.salary_months) : "");
    }

    _place(job) {
      return [job.city, job.district].filter(Boolean).join(" · ");
    }

    _date(iso) {
      try { return new Intl.DateTimeFormat(this.language === "zh" ? "zh-CN" : "en-GB", { dateStyle: "medium" }).format(new Date(iso)); }
      catch (_) { return iso.slice(0, 10); }
    }

    _card(hit) {
      const t = this.t, job = hit.job, hl = hit.highlights || {};
      const titleId = `tm-t-${job.id}-${this._seq}`;
      const title = hl.title && hl.title.length ? marked(hl.title[0]) : [job.title];
      const snippet = hl.description && hl.description.length ? marked(hl.description[0])
        : [job.description.length > 120 ? `${job.description.slice(0, 120)}…` : job.description];
      const skills = (job.required_skills || []).slice(0, 6);
      const meta = [job.company, this._place(job), JOB_TYPES[this.language][job.employment_type]].filter(Boolean).join(" · ");
      return h("li", { class: "card" },
        h("article", { "aria-labelledby": titleId },
          h("h3", { id: titleId },
            h("button", { type: "button", class: "open", "aria-haspopup": "dialog", onclick: (e) => this._open(job, e.currentTarget) }, title)),
          h("p", { class: "meta" }, h("span", { class: "pay" }, this._salary(job)), ` · ${meta}`),
          job.description ? h("p", { class: "snippet" }, snippet) : null,
          skills.length ? h("ul", { class: "chips", "aria-label": t.skills }, skills.map((s) => h("li", {}, s))) : null,
          h("p", { class: "posted" }, `${t.posted} ${this._date(job.posted_at)}`)));
    }

    _applyUrl(job) {
      const template = this._fair && this._fair.apply_url;
      if (!template) return null;
      const url = template.split("{job_id}").join(encodeURIComponent(String(job.id)))
        .split("{external_id}").join(encodeURIComponent(job.external_id == null ? "" : String(job.external_id)));
      return /^https?:\/\//i.test(url) ? url : null;  // never a javascript: link
    }

    _open(job, opener) {
      const t = this.t;
      this._opener = opener;
      const facts = [
        this._salary(job), this._place(job), JOB_TYPES[this.language][job.employment_type],
        job.education ? EDUCATION[this.language][job.education] : null,
        job.min_years_experience ? t.experience(job.min_years_experience) : null,
        job.remote ? t.remote : null,
      ].filter(Boolean).join(" · ");
      const apply = this._applyUrl(job);
      const list = (items) => h("ul", { class: "chips" }, items.map((s) => h("li", {}, s)));
      this._dialog.replaceChildren(h("div", { class: "sheet" },
        h("h2", { id: this._ids.dlgTitle }, job.title),
        h("p", { class: "meta" }, [job.company, facts].filter(Boolean).join(" · ")),
        h("h3", {}, t.description), h("p", { class: "desc" }, job.description || "—"),
        job.required_skills && job.required_skills.length ? [h("h3", {}, t.required), list(job.required_skills)] : null,
        job.preferred_skills && job.preferred_skills.length ? [h("h3", {}, t.preferred), list(job.preferred_skills)] : null,
        h("p", { class: "posted" }, `${t.posted} ${this._date(job.posted_at)}`),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "btn quiet", onclick: () => this._dialog.close() }, t.close),
          apply ? h("a", { class: "btn", href: apply, target: "_blank", rel: "noopener noreferrer" }, t.apply) : null)));
      this._dialog.showModal();
      this._dialog.querySelector(".actions .btn").focus();
    }

    _afterClose() {
      if (this._opener && this._opener.isConnected) this._opener.focus();
    }
  }

  customElements.define("talentmatch-search", TalentMatchSearch);
})();
