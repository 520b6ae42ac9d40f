(function () {
  var every = @EVERY@;
  // Logical column (colspans counted) of each show-stat field in a row.
  // Only counters: limits, weights and flags keep the page's rendering.
  var cols = {qcur: 2, qmax: 3, rate: 5, rate_max: 6, scur: 8, smax: 9,
    stot: 11, lbtot: 12, bin: 14, bout: 15, dreq: 16, dresp: 17, ereq: 18,
    econ: 19, eresp: 20, wretr: 21, wredis: 22};
  function grouped(v) {
    v = String(v);
    if (!/^[0-9]+$/.test(v) || v.length <= 3) {
      return v.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    }
    var out = "", head = v.length % 3, i = head;
    if (head > 0) { out += "<span class=\"rls\">" + v.slice(0, head) + "</span>"; }
    for (; i < v.length; i += 3) {
      var g = v.slice(i, i + 3);
      out += i + 3 < v.length ? "<span class=\"rls\">" + g + "</span>" : g;
    }
    return out;
  }
  function human(s) {
    var t = parseInt(s, 10);
    if (isNaN(t)) { return ""; }
    var d = Math.floor(t / 86400), h = Math.floor(t / 3600) % 24,
      m = Math.floor(t / 60) % 60, x = t % 60;
    if (d > 0) { return d + "d" + h + "h"; }
    if (h > 0) { return h + "h" + m + "m"; }
    if (m > 0) { return m + "m" + x + "s"; }
    return x + "s";
  }
  function rowClass(status, backup) {
    var kind = backup ? "backup_" : "active_";
    if (status.indexOf("MAINT") === 0) { return "maintain"; }
    if (status === "no check") { return kind + "no_check"; }
    if (status === "DRAIN" || status.indexOf("NOLB") === 0) { return kind + "draining"; }
    if (status === "UP") { return kind + "up"; }
    if (status.indexOf("UP") === 0) { return kind + "going_down"; }
    if (status.indexOf("DOWN ") === 0) { return kind + "going_up"; }
    return kind + "down";
  }
  function setCell(td, html) {
    var u = td.firstElementChild;
    if (u && u.tagName === "U") {
      var tip = u.querySelector("div");
      while (u.firstChild && u.firstChild !== tip) { u.removeChild(u.firstChild); }
      var span = document.createElement("span");
      span.innerHTML = html;
      u.insertBefore(span, tip);
    } else {
      td.innerHTML = html;
    }
  }
  function apply(rows) {
    rows.forEach(function (fields) {
      var f = {};
      fields.forEach(function (x) { f[x.field.name] = x.value.value; });
      var sv = f.svname;
      var anchor = sv === "FRONTEND" ? "Frontend" : sv === "BACKEND" ? "Backend" : sv;
      var a = document.getElementsByName(f.pxname + "/" + anchor)[0];
      var tr = a && a.closest("tr");
      if (!tr) { return; }
      var at = [], n = 0;
      for (var i = 0; i < tr.cells.length; i++) {
        at[n] = tr.cells[i];
        n += tr.cells[i].colSpan;
      }
      Object.keys(cols).forEach(function (k) {
        var td = at[cols[k]];
        // A cell the page leaves blank stays blank.
        if (td && f[k] !== undefined && td.colSpan === 1 && td.textContent !== "") {
          setCell(td, grouped(f[k]));
        }
      });
      if (f.status !== undefined && sv !== "FRONTEND" && at[23]) {
        var st = String(f.status);
        at[23].innerHTML = (f.lastchg !== undefined ? human(f.lastchg) + " " : "") +
          grouped(st);
        if (sv !== "BACKEND") { tr.className = rowClass(st, f.bck === 1); }
      }
    });
    var mark = document.getElementById("live-update");
    if (mark) { mark.textContent = "live update: " + new Date().toLocaleTimeString(); }
  }
  function tick() {
    var url = location.href.split("#")[0].replace(";live", ";json");
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.onload = function () {
      if (x.status === 200) {
        try { apply(JSON.parse(x.responseText)); } catch (e) { }
      }
    };
    x.send();
  }
  setInterval(tick, every);
  tick();
})();
