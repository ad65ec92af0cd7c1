// The operator's market report: signs in with an admin key (kept in this tab only), reads
// /v1/stats/*, draws the charts as SVG and offers every table as CSV. Data is written with
// textContent only, never as HTML.
(function () {
  "use strict";
  var T = {
    zh: {
      title: "人力资源市场供求报告", language: "语言", admin_key: "管理员密钥", sign_in: "登录",
      key_note: "密钥只保存在本标签页中（sessionStorage），关闭即清除。", period: "统计期",
      city: "城市", level: "职业层级", major: "大类", middle: "中类", minor: "小类",
      refresh: "刷新", sign_out: "退出", supply_demand: "分职业供求", shortage: "最缺工职业排行",
      wages: "工资价位（月薪）", indicators: "规划指标", trend: "供求走势", download_csv: "下载 CSV",
      occupation: "职业", demand: "需求人数", seekers: "求职人数", ratio: "求人倍率",
      change_prev: "较上期", change_year: "较上年同期", rank: "排名", gap: "缺口",
      previous_rank: "上期排名", postings: "岗位数", indicator: "指标", value: "完成",
      target_to_date: "进度目标", target_year: "年度目标", share: "完成率", suppressed: "不足5，不公开",
      no_data: "本期没有数据", bad_key: "密钥无效或没有管理权限", period_col: "统计期",
    },
    en: {
      title: "Labour-market supply and demand", language: "Language", admin_key: "Admin key",
      sign_in: "Sign in", key_note: "The key stays in this tab only (sessionStorage) and is gone when it closes.",
      period: "Period", city: "City", level: "Occupation level", major: "major group",
      middle: "sub-major group", minor: "minor group", refresh: "Refresh", sign_out: "Sign out",
      supply_demand: "Supply and demand by occupation", shortage: "Occupations most short of workers",
      wages: "Posted monthly pay", indicators: "Plan indicators", trend: "Over time",
      download_csv: "Download CSV", occupation: "Occupation", demand: "Demand", seekers: "Seekers",
      ratio: "Vacancies per seeker", change_prev: "vs previous period", change_year: "vs a year ago",
      rank: "Rank", gap: "Gap", previous_rank: "Previous rank", postings: "Postings",
      indicator: "Indicator", value: "Value", target_to_date: "Target to date", target_year: "Yearly target",
      share: "Share of target", suppressed: "under 5, not shown", no_data: "No data for this period",
      bad_key: "The key is not valid or has no admin scope", period_col: "Period",
    },
  };
  var state = { lang: "zh", key: sessionStorage.getItem("talentmatch-admin-key") || "", data: {} };
  var $ = function (id) { return document.getElementById(id); };
  function t(name) { return T[state.lang][name] || name; }

  function translate() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = t(node.dataset.t); });
    document.title = "TalentMatch · " + t("title");
  }

  function query(params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (k) { if (params[k]) search.set(k, params[k]); });
    var period = $("period").value.trim(), city = $("city").value.trim();
    if (period && !search.has("period") && !search.has("year")) search.set("period", period);
    if (city && !search.has("year")) search.set("city", city);
    return search.toString();
  }

  function call(path, params, asText) {
    return fetch(path + "?" + query(params), {
      headers: { Authorization: "Bearer " + state.key, "Accept-Language": state.lang },
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) throw new Error(t("bad_key"));
      if (!response.ok) {
        return response.json().then(function (body) { throw new Error(body.error ? body.error.message : response.statusText); });
      }
      return asText ? response.text() : response.json();
    });
  }

  var SVG = "http://www.w3.org/2000/svg";
  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function fmt(value) {
    if (value === null || value === undefined) return "–";
    return typeof value === "number" ? value.toLocaleString(state.lang === "zh" ? "zh-CN" : "en-US") : String(value);
  }

  // Horizontal bars: one row per label, one bar per series.
  function bars(rows, series, colours) {
    var shown = rows.slice(0, 12), rowHeight = 14 * series.length + 10, width = 720, left = 220;
    var height = shown.length * rowHeight + 24, max = 0;
    shown.forEach(function (r) { series.forEach(function (s) { max = Math.max(max, r[s] || 0); }); });
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img" });
    shown.forEach(function (r, i) {
      var y = i * rowHeight + 4;
      svg.appendChild(el("text", { x: left - 6, y: y + rowHeight / 2, "text-anchor": "end" }, r.label.slice(0, 24)));
      series.forEach(function (s, j) {
        var value = r[s], w = max ? ((value || 0) / max) * (width - left - 60) : 0;
        svg.appendChild(el("rect", { x: left, y: y + j * 14, width: Math.max(w, 0), height: 12, fill: colours[j], "data-series": s }));
        svg.appendChild(el("text", { x: left + w + 4, y: y + j * 14 + 10 }, value === null ? t("suppressed") : fmt(value)));
      });
    });
    var legend = document.createElement("div");
    legend.className = "legend";
    series.forEach(function (s, j) {
      var swatch = document.createElement("span");
      swatch.style.background = colours[j];
      legend.appendChild(swatch);
      legend.appendChild(document.createTextNode(t(s)));
    });
    var box = document.createElement("div");
    box.appendChild(legend);
    box.appendChild(svg);
    return box;
  }

  // Pay bands: P10–P90 as a bar, P25–P75 darker, P50 a tick.
  function bands(rows) {
    var shown = rows.filter(function (r) { return r.p50 !== null; }).slice(0, 12);
    var width = 720, left = 220, rowHeight = 22, height = shown.length * rowHeight + 24, max = 0;
    shown.forEach(function (r) { max = Math.max(max, r.p90); });
    var x = function (v) { return left + (max ? (v / max) * (width - left - 70) : 0); };
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img" });
    shown.forEach(function (r, i) {
      var y = i * rowHeight + 4;
      svg.appendChild(el("text", { x: left - 6, y: y + 12, "text-anchor": "end" }, r.label.slice(0, 24)));
      svg.appendChild(el("rect", { x: x(r.p10), y: y + 3, width: x(r.p90) - x(r.p10), height: 12, fill: "#bcccdc" }));
      svg.appendChild(el("rect", { x: x(r.p25), y: y + 3, width: x(r.p75) - x(r.p25), height: 12, fill: "#486581" }));
      svg.appendChild(el("rect", { x: x(r.p50) - 1, y: y, width: 3, height: 18, fill: "#f0b429", "data-series": "p50" }));
      svg.appendChild(el("text", { x: x(r.p90) + 4, y: y + 13 }, fmt(r.p50)));
    });
    return svg;
  }

  function table(rows, columns) {
    var node = document.createElement("table"), head = node.createTHead().insertRow();
    columns.forEach(function (c) {
      var th = document.createElement("th");
      th.textContent = t(c.title);
      if (c.num) th.className = "num";
      head.appendChild(th);
    });
    var body = node.createTBody();
    if (!rows.length) {
      var cell = body.insertRow().insertCell();
      cell.colSpan = columns.length;
      cell.className = "muted";
      cell.textContent = t("no_data");
    }
    rows.forEach(function (r) {
      var tr = body.insertRow();
      columns.forEach(function (c) {
        var td = tr.insertCell(), value = c.get(r);
        td.textContent = value === null && c.suppressed && c.suppressed(r) ? t("suppressed") : fmt(value);
        if (c.num) td.className = "num";
      });
    });
    return node;
  }

  function put(section, chart, tableNode) {
    var root = $(section);
    root.querySelector(".chart").replaceChildren(chart);
    root.querySelector(".table").replaceChildren(tableNode);
  }

  function render() {
    var d = state.data;
    if (!d.market) return;
    put("supply-demand", bars(d.market.rows, ["demand", "seekers"], ["#2f80ed", "#27ae60"]), table(d.market.rows, [
      { title: "occupation", get: function (r) { return r.label; } },
      { title: "demand", num: true, get: function (r) { return r.demand; }, suppressed: function (r) { return r.demand_suppressed; } },
      { title: "seekers", num: true, get: function (r) { return r.seekers; }, suppressed: function (r) { return r.seekers_suppressed; } },
      { title: "ratio", num: true, get: function (r) { return r.ratio; }, suppressed: function (r) { return r.ratio_suppressed; } },
      { title: "change_prev", num: true, get: function (r) { return r.ratio_change.previous_period; } },
      { title: "change_year", num: true, get: function (r) { return r.ratio_change.year_ago; } },
    ]));
    put("shortage", bars(d.shortage.rows, ["gap"], ["#e12d39"]), table(d.shortage.rows, [
      { title: "rank", num: true, get: function (r) { return r.rank; } },
      { title: "occupation", get: function (r) { return r.label; } },
      { title: "demand", num: true, get: function (r) { return r.demand; } },
      { title: "seekers", num: true, get: function (r) { return r.seekers; } },
      { title: "gap", num: true, get: function (r) { return r.gap; } },
      { title: "previous_rank", num: true, get: function (r) { return r.previous_rank; } },
    ]));
    put("wages", bands(d.wages.rows), table(d.wages.rows, [
      { title: "occupation", get: function (r) { return r.label; } },
      { title: "postings", num: true, get: function (r) { return r.postings; }, suppressed: function (r) { return r.suppressed; } },
      { title: "P10", num: true, get: function (r) { return r.p10; } },
      { title: "P25", num: true, get: function (r) { return r.p25; } },
      { title: "P50", num: true, get: function (r) { return r.p50; } },
      { title: "P75", num: true, get: function (r) { return r.p75; } },
      { title: "P90", num: true, get: function (r) { return r.p90; } },
    ]));
    put("indicators", bars(d.indicators.rows.map(function (r) { return Object.assign({}, r, { value: r.value, target_to_date: r.target_to_date }); }), ["value", "target_to_date"], ["#2f80ed", "#bcccdc"]), table(d.indicators.rows, [
      { title: "indicator", get: function (r) { return r.label; } },
      { title: "value", num: true, get: function (r) { return r.value; } },
      { title: "target_to_date", num: true, get: function (r) { return r.target_to_date; } },
      { title: "target_year", num: true, get: function (r) { return r.target_year; } },
      { title: "share", num: true, get: function (r) { return r.share_of_target_to_date; } },
    ]));
    var trend = d.trend.map(function (p) { return { label: p.period, demand: p.totals.demand, seekers: p.totals.seekers, ratio: p.totals.ratio }; });
    put("trend", bars(trend, ["demand", "seekers"], ["#2f80ed", "#27ae60"]), table(trend, [
      { title: "period_col", get: function (r) { return r.label; } },
      { title: "demand", num: true, get: function (r) { return r.demand; } },
      { title: "seekers", num: true, get: function (r) { return r.seekers; } },
      { title: "ratio", num: true, get: function (r) { return r.ratio; } },
    ]));
  }

  function load() {
    $("error").textContent = "";
    var level = $("level").value;
    return Promise.all([
      call("/v1/stats/market", { by: "occupation_group", level: level }),
      call("/v1/stats/shortage", {}),
      call("/v1/stats/wages", { by: "occupation_group", level: level }),
      call("/v1/stats/indicators", { year: ($("period").value.trim() || String(new Date().getFullYear())).slice(0, 4) }),
    ]).then(function (answers) {
      state.data = { market: answers[0], shortage: answers[1], wages: answers[2], indicators: answers[3] };
      // The same kind of period, six back: the market totals of each.
      return Promise.all(answers[0].trend_periods.map(function (p) {
        return call("/v1/stats/market", { by: "occupation_group", level: "major", period: p });
      }));
    }).then(function (series) {
      state.data.trend = series;
      $("signin").hidden = true;
      $("report-controls").hidden = false;
      $("report").hidden = false;
      render();
    }).catch(function (error) {
      $("report-controls").hidden = false;
      $("error").textContent = error.message;
    });
  }

  function save(name, text) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    link.download = name + ".csv";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function download(which) {
    var level = $("level").value;
    if (which === "trend") {
      var lines = ["period,demand,seekers,ratio"].concat(state.data.trend.map(function (p) {
        return [p.period, p.totals.demand, p.totals.seekers, p.totals.ratio].map(function (v) { return v === null ? "" : v; }).join(",");
      }));
      save("trend", "\ufeff" + lines.join("\n") + "\n");
      return;
    }
    var routes = {
      market: ["/v1/stats/market", { by: "occupation_group", level: level, format: "csv" }],
      shortage: ["/v1/stats/shortage", { format: "csv" }],
      wages: ["/v1/stats/wages", { by: "occupation_group", level: level, format: "csv" }],
      indicators: ["/v1/stats/indicators", { year: state.data.indicators.year, format: "csv" }],
    };
    call(routes[which][0], routes[which][1], true).then(function (text) { save(which, text); })
      .catch(function (error) { $("error").textContent = error.message; });
  }

  $("language").addEventListener("change", function (event) {
    state.lang = event.target.value;
    translate();
    if (state.key && state.data.market) load();
  });
  $("signin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem("talentmatch-admin-key", state.key);
    load();
  });
  $("controls").addEventListener("submit", function (event) { event.preventDefault(); load(); });
  $("sign-out").addEventListener("click", function () {
    sessionStorage.removeItem("talentmatch-admin-key");
    state.key = "";
    state.data = {};
    $("report").hidden = true;
    $("report-controls").hidden = true;
    $("signin").hidden = false;
  });
  document.querySelectorAll("[data-csv]").forEach(function (button) {
    button.addEventListener("click", function () { download(button.dataset.csv); });
  });
  if (navigator.language && navigator.language.indexOf("zh") !== 0) { state.lang = "en"; $("language").value = "en"; }
  translate();
  if (state.key) load();
})();
