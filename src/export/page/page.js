/* nstats live page: polls api/v1/flows and api/v1/summary every 2 s, fills the header and the
 * table, and keeps the last few minutes of the top talkers' rates for the chart. Every URL is
 * relative (the page may sit behind a path prefix), and names from the network only ever
 * reach the page as text (textContent), never as markup. */
(function () {
  'use strict';

  var REFRESH_MS = 2000;
  var HISTORY_MS = 5 * 60 * 1000;
  var CHART_TALKERS = 6;
  var KEPT_KEYS = 60; /* rows per answer whose history is kept, so memory stays bounded */
  var PALETTE = ['#2563eb', '#16a34a', '#e8590c', '#9333ea', '#0891b2', '#db2777', '#ca8a04',
    '#64748b'];
  var GROUPS = {
    pair: { head: 'Remote', fields: ['local', 'remote', 'proto', 'port'] },
    remote: { head: 'Remote', fields: ['remote'] },
    name: { head: 'Remote name', fields: ['remote_name'] },
    port: { head: 'Service', fields: ['proto', 'port'] },
    workload: { head: 'Workload', fields: ['remote_kind', 'remote_namespace', 'remote_workload'] },
    namespace: { head: 'Namespace', fields: ['remote_namespace'] },
    net: { head: 'Network', fields: ['net'] },
    class: { head: 'Traffic class', fields: ['class'] }
  };
  var SORTS = ['r2', 'r10', 'r40', 'in', 'out', 'total', 'peak', 'name'];
  var SERVICES = {
    'tcp/22': 'ssh', 'udp/53': 'dns', 'tcp/53': 'dns', 'tcp/80': 'http', 'udp/123': 'ntp',
    'tcp/443': 'https', 'udp/443': 'quic', 'tcp/853': 'dns-tls', 'tcp/2379': 'etcd',
    'tcp/3306': 'mysql', 'tcp/5201': 'iperf3', 'udp/5201': 'iperf3', 'tcp/5432': 'postgres',
    'tcp/6379': 'redis', 'tcp/6443': 'k8s-api', 'tcp/8086': 'influxdb', 'tcp/9090': 'prometheus',
    'tcp/10250': 'kubelet'
  };

  var state = { group: 'pair', sort: 'r10', order: 'desc', filter: '', limit: 50, units: 'bits' };
  var paused = false;
  var timer = null;
  var sequence = 0;
  var lastCpu = null; /* {cpu, t}: the previous summary's process CPU, for a rate */
  var history = new Map(); /* key -> {label, points: [{t, in, out}], seen} */
  var colours = new Map(); /* key -> palette index, while the key is charted */
  var hiddenKeys = new Set();
  var chart = null;
  var lastFlows = null;
  var lastAnswer = 0; /* time_ms of the last answer recorded */
  var hasCost = false; /* nstats has prices: rows carry cost_usd */

  function $(id) { return document.getElementById(id); }

  /* Formatting. Rates arrive in bytes per second. */
  function si(v, unit) {
    var prefixes = ['', 'k', 'M', 'G', 'T', 'P'];
    var i = 0;
    var a = Math.abs(v);
    while (a >= 999.5 && i < prefixes.length - 1) { a /= 1000; v /= 1000; i++; }
    var digits = i === 0 ? 0 : (a < 9.995 ? 2 : (a < 99.95 ? 1 : 0));
    return v.toFixed(digits) + ' ' + prefixes[i] + unit;
  }
  function rate(bytesPerSecond) {
    if (state.units === 'bits') return si(bytesPerSecond * 8, 'b/s');
    return si(bytesPerSecond, 'B/s');
  }
  function bytes(n) { return si(n, 'B'); }
  function mib(n) { return (n / 1048576).toFixed(n < 10485760 ? 1 : 0) + ' MiB'; }
  function integer(n) { return Number(n).toLocaleString('en-US'); }
  function clock(ms) {
    var d = new Date(ms);
    function two(x) { return (x < 10 ? '0' : '') + x; }
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }
  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  /* The page's settings live in the URL's fragment, so a reload or a shared link keeps them. */
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    if (GROUPS[p.get('group')]) state.group = p.get('group');
    if (SORTS.indexOf(p.get('sort')) >= 0) state.sort = p.get('sort');
    if (p.get('order') === 'asc' || p.get('order') === 'desc') state.order = p.get('order');
    if (p.has('filter')) state.filter = p.get('filter');
    var limit = parseInt(p.get('limit'), 10);
    if (limit >= 1 && limit <= 10000) state.limit = limit;
    if (p.get('units') === 'bits' || p.get('units') === 'bytes') state.units = p.get('units');
  }
  function writeHash() {
    var p = new URLSearchParams();
    Object.keys(state).forEach(function (k) { p.set(k, String(state[k])); });
    replaceHash('#' + p.toString());
  }
  function replaceHash(hash) {
    try { window.history.replaceState(null, '', hash); } catch (e) { /* sandboxed: keep going */ }
  }

  /* What a row is, for labels and for the chart's history. */
  function isSpecial(row) {
    return row.proto === 'non-ip' || row.proto === 'malformed' || row.proto === 'other' ||
      row.remote === 'other' || row.remote === 'none';
  }
  function rowKey(row) {
    var key = GROUPS[state.group].fields.map(function (f) { return String(row[f]); });
    if (isSpecial(row)) key.push(row.proto, row.remote);
    return key.join('|');
  }
  /* Keys for an answer's rows, unique within it (a grouping could in principle repeat one). */
  function keyRows(f) {
    var seen = new Map();
    (f.rows || []).forEach(function (row) {
      var key = rowKey(row);
      var n = (seen.get(key) || 0) + 1;
      seen.set(key, n);
      row.key = n > 1 ? key + '#' + n : key;
    });
  }
  function service(row) {
    if (!row.port) return row.proto || '';
    return row.proto + '/' + row.port;
  }
  /* Where a name came from (dns, rdns, k8s, a label), unless it is only the address. */
  function sourceTag(row) {
    return row.remote_source && row.remote_source !== 'addr' ? row.remote_source : '';
  }
  /* [main text, secondary text or '', tag or ''] */
  function describe(row) {
    if (row.proto === 'non-ip') return ['non-IP frames', '', ''];
    if (row.proto === 'malformed') return ['malformed packets', '', ''];
    if (row.remote === 'other' || row.proto === 'other')
      return ['other keys', 'past --max-flows', ''];
    switch (state.group) {
      case 'port':
        return [service(row), '', SERVICES[service(row)] || ''];
      case 'name':
        return [row.remote_name || '(no name)', '', sourceTag(row)];
      case 'workload':
        if (!row.remote_workload) return ['(no workload)', '', ''];
        return [(row.remote_namespace ? row.remote_namespace + '/' : '') + row.remote_workload, '',
          row.remote_kind || ''];
      case 'namespace':
        return [row.remote_namespace || '(no namespace)', '', ''];
      case 'net':
        return [row.net || '(unlabelled)', '', ''];
      case 'class':
        return [row.class || '(no class)', '', ''];
      default:
        if (row.remote_name && row.remote_name !== row.remote)
          return [row.remote_name, row.remote, sourceTag(row)];
        return [row.remote, '', ''];
    }
  }
  function chartLabel(row) {
    var d = describe(row);
    if (state.group === 'pair' && !isSpecial(row)) return d[0] + ' · ' + service(row);
    return d[0];
  }

  /* Fetching. */
  function getJSON(url) {
    return fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(function (res) {
        return res.text().then(function (text) {
          var body = null;
          try { body = JSON.parse(text); } catch (e) { body = null; }
          if (!res.ok) {
            var err = new Error((body && body.error) || ('HTTP ' + res.status));
            err.status = res.status;
            throw err;
          }
          if (body === null) throw new Error('not JSON');
          return body;
        });
      });
  }

  function flowsURL() {
    var p = new URLSearchParams();
    p.set('group', state.group);
    p.set('sort', state.sort);
    p.set('order', state.order);
    p.set('limit', String(state.limit));
    if (state.filter) p.set('filter', state.filter);
    return 'api/v1/flows?' + p.toString();
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = paused ? null : setTimeout(refresh, ms);
  }

  function refresh() {
    var mine = ++sequence;
    var started = Date.now();
    Promise.allSettled([getJSON(flowsURL()), getJSON('api/v1/summary')]).then(function (r) {
      if (mine !== sequence) return; /* settings changed meanwhile: a newer request is out */
      var problems = [];
      var refused = '';
      $('filter').classList.remove('invalid');
      if (r[0].status === 'fulfilled') {
        lastFlows = r[0].value;
        keyRows(lastFlows);
        record(lastFlows);
        renderTable(lastFlows);
        renderChart();
      } else if (r[0].reason.status === 400) {
        /* nstats is fine; it refused what was asked (most likely the filter). */
        $('filter').classList.add('invalid');
        refused = r[0].reason.message;
      } else {
        problems.push('flows: ' + r[0].reason.message);
      }
      if (r[1].status === 'fulfilled') renderSummary(r[1].value);
      else problems.push('summary: ' + r[1].reason.message);
      setStatus(problems, refused);
      schedule(Math.max(200, REFRESH_MS - (Date.now() - started)));
    });
  }

  function setStatus(problems, refused) {
    var status = $('status');
    var banner = $('banner');
    status.className = 'status ' + (problems.length ? 'down' : (paused ? 'paused' : 'live'));
    banner.classList.toggle('note', !problems.length);
    if (problems.length) {
      $('status-text').textContent = 'no answer · ' + clock(Date.now());
      banner.textContent = 'nstats did not answer: ' + problems.join('; ');
    } else {
      $('status-text').textContent = (paused ? 'paused · ' : 'live · ') + clock(Date.now());
      banner.textContent = refused ? 'nstats refused the request: ' + refused : '';
    }
    banner.hidden = !banner.textContent;
  }

  /* The header: how well nstats is counting. */
  function setStat(id, text, level, title) {
    var el = $(id);
    el.textContent = text;
    var stat = el.closest('.stat');
    stat.classList.toggle('warn', level === 'warn');
    stat.classList.toggle('bad', level === 'bad');
    stat.title = title || '';
  }

  function renderSummary(s) {
    $('source').textContent = s.source || '?';
    $('host').textContent = s.host || '';
    document.title = 'nstats · ' + (s.host ? s.host + ' · ' : '') + (s.source || '');
    if (s.rates) {
      setStat('rate-in', rate(s.rates.in.r2), '', '10 s: ' + rate(s.rates.in.r10) + ', 40 s: ' +
        rate(s.rates.in.r40));
      setStat('rate-out', rate(s.rates.out.r2), '', '10 s: ' + rate(s.rates.out.r10) +
        ', 40 s: ' + rate(s.rates.out.r40));
    }
    var cap = s.capture || {};
    var drops = (cap.drops || 0) + (cap.interface_drops || 0);
    setStat('drops', integer(cap.drops || 0) + ' / ' + integer(cap.interface_drops || 0),
      drops > 0 ? 'bad' : '',
      integer(cap.packets || 0) + ' packets, ' + bytes(cap.bytes || 0) + ' captured');
    var used = s.keys_max ? s.keys / s.keys_max : 0;
    var folded = s.folded && s.folded.packets > 0;
    setStat('keys', integer(s.keys) + ' / ' + integer(s.keys_max),
      used >= 1 || folded ? 'bad' : (used > 0.8 ? 'warn' : ''),
      folded ? integer(s.folded.packets) + ' packets folded (table full)' : '');
    $('keys-bar').style.width = Math.min(100, used * 100).toFixed(1) + '%';
    if (s.export) {
      $('stat-export').hidden = false;
      var lost = s.export.batches_dropped || 0;
      setStat('export', bytes(s.export.queue_bytes || 0) +
        (lost ? ' · ' + integer(lost) + ' lost' : ''), lost ? 'bad' : '',
        integer(lost) + ' batches dropped');
    } else {
      $('stat-export').hidden = true;
    }
    if (s.process) {
      var cpu = '–';
      if (lastCpu && s.time_ms > lastCpu.t) {
        cpu = (100 * (s.process.cpu_seconds - lastCpu.cpu) / ((s.time_ms - lastCpu.t) / 1000))
          .toFixed(1) + '%';
      }
      if (!lastCpu || s.time_ms > lastCpu.t) lastCpu = { cpu: s.process.cpu_seconds, t: s.time_ms };
      setStat('process', cpu + ' · ' + mib(s.process.rss_bytes), '',
        s.process.cpu_seconds.toFixed(2) + ' CPU seconds in all');
    }
  }

  /* The table. */
  function cell(tr, text, cls, title) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    if (title) td.title = title;
    tr.appendChild(td);
    return td;
  }
  function rateCell(tr, v, cls) {
    return cell(tr, v > 0 ? rate(v) : '0', 'num ' + cls + (v > 0 ? '' : ' zero'));
  }
  /* USD to the cent; below a cent, "<$0.01" (the exact figure is the cell's title). */
  function usd(v) {
    if (!(v > 0)) return '$0';
    if (v >= 1000) return '$' + Math.round(v);
    if (v >= 0.01) return '$' + v.toFixed(2);
    return '<$0.01';
  }
  function costCell(tr, r) {
    if (!hasCost) return;
    var v = r.cost_usd;
    cell(tr, usd(v), 'num pair-start col-cost' + (v > 0 ? '' : ' zero'),
      '$' + (v || 0).toPrecision(4) + ': the totals at the --price of their traffic class');
  }
  function rateCells(tr, r, withPeak) {
    rateCell(tr, r.in.r2, 'pair-start');
    rateCell(tr, r.out.r2, '');
    rateCell(tr, r.in.r10, 'pair-start');
    rateCell(tr, r.out.r10, '');
    rateCell(tr, r.in.r40, 'pair-start');
    rateCell(tr, r.out.r40, '');
    var total = r.in.total + r.out.total;
    cell(tr, total > 0 ? bytes(total) : '0', 'num pair-start' + (total > 0 ? '' : ' zero'),
      'in ' + bytes(r.in.total) + ', out ' + bytes(r.out.total));
    if (withPeak) {
      rateCell(tr, r.in.peak, 'pair-start');
      rateCell(tr, r.out.peak, '');
    } else {
      cell(tr, '', 'pair-start');
      cell(tr, '', '');
    }
  }

  function visibleColumns() { return (state.group === 'pair' ? 12 : 10) + (hasCost ? 1 : 0); }

  function renderTable(f) {
    var body = document.createElement('tbody');
    hasCost = !!(f.all && typeof f.all.cost_usd === 'number');
    $('cost-head').hidden = !hasCost;
    $('flows').classList.toggle('priced', hasCost);
    var pair = state.group === 'pair';
    body.id = 'rows';
    (f.rows || []).forEach(function (row) {
      var tr = document.createElement('tr');
      var d = describe(row);
      var key = row.key;
      if (isSpecial(row)) tr.className = 'special';
      var td = cell(tr, '', 'key');
      if (colours.has(key)) {
        var sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = PALETTE[colours.get(key)];
        td.appendChild(sw);
      } else {
        var gap = document.createElement('span');
        gap.className = 'nochart';
        td.appendChild(gap);
      }
      var name = document.createElement('span');
      name.className = 'name';
      name.textContent = d[0];
      td.appendChild(name);
      if (d[1]) {
        var addr = document.createElement('span');
        addr.className = 'addr';
        addr.textContent = d[1];
        td.appendChild(addr);
      }
      if (d[2]) {
        var tag = document.createElement('span');
        tag.className = 'tag';
        tag.textContent = d[2];
        td.appendChild(tag);
      }
      if (row.class && state.group !== 'class') {
        var cls = document.createElement('span');
        cls.className = 'tag class';
        cls.textContent = row.class;
        td.appendChild(cls);
      }
      td.title = d[0] + (d[1] ? ' (' + d[1] + ')' : '') + (row.keys > 1 ? ', ' + row.keys +
        ' keys' : '') + (row.class ? ', ' + row.class : '');
      if (pair) {
        cell(tr, row.local, '');
        var svc = cell(tr, service(row), '');
        if (SERVICES[service(row)]) svc.title = SERVICES[service(row)];
      }
      rateCells(tr, row, true);
      costCell(tr, row);
      body.appendChild(tr);
    });
    if (!f.rows || f.rows.length === 0) {
      var tr = document.createElement('tr');
      tr.className = 'empty';
      var td = cell(tr, f.loading ? 'loading…' :
        (state.filter ? 'nothing matches the filter' : 'nothing counted yet'), '');
      td.colSpan = visibleColumns();
      body.appendChild(tr);
    }
    $('rows').replaceWith(body);

    var foot = document.createElement('tfoot');
    foot.id = 'sums';
    [['others', f.others], ['all', f.all]].forEach(function (p) {
      var sum = p[1];
      if (!sum || (p[0] === 'others' && !sum.keys)) return;
      var tr = document.createElement('tr');
      tr.className = p[0];
      var label = p[0] === 'all' ? (state.filter ? 'all matching' : 'all') :
        'others (past the row limit)';
      var td = cell(tr, label + ' · ' + integer(sum.keys) + (sum.keys === 1 ? ' key' : ' keys'),
        'key');
      if (pair) td.colSpan = 3;
      rateCells(tr, sum, false);
      costCell(tr, sum);
      foot.appendChild(tr);
    });
    $('sums').replaceWith(foot);
  }

  function renderHeads() {
    $('key-head').textContent = GROUPS[state.group].head;
    document.querySelectorAll('.col-local, .col-service').forEach(function (th) {
      th.hidden = state.group !== 'pair';
    });
    document.querySelectorAll('th.sortable').forEach(function (th) {
      th.classList.remove('sorted', 'asc');
    });
    var th = document.querySelector('th.sortable[data-sort="' + state.sort + '"]');
    if (th) {
      th.classList.add('sorted');
      if (state.order === 'asc') th.classList.add('asc');
    }
    document.querySelectorAll('#units button').forEach(function (b) {
      b.classList.toggle('on', b.dataset.units === state.units);
    });
    $('group').value = state.group;
    $('limit').value = String(state.limit);
    if (!$('limit').value) {
      var o = document.createElement('option');
      o.textContent = String(state.limit);
      $('limit').appendChild(o);
      $('limit').value = String(state.limit);
    }
    if ($('filter').value !== state.filter) $('filter').value = state.filter;
  }

  /* The chart's history: each answer adds a point (its 2 s rates) to the keys it lists. */
  function record(f) {
    /* Points are stamped with this browser's clock, so the axis ends at its "now" whatever
     * the server's clock says; an answer seen before (the server shares one for 500 ms)
     * adds nothing. */
    if (f.time_ms && f.time_ms === lastAnswer) return;
    lastAnswer = f.time_ms;
    var t = Date.now();
    var rows = (f.rows || []).slice().sort(function (a, b) {
      return (b.in.r10 + b.out.r10) - (a.in.r10 + a.out.r10);
    }).slice(0, KEPT_KEYS);
    rows.forEach(function (row) {
      var key = row.key;
      var h = history.get(key);
      if (!h) {
        h = { points: [] };
        history.set(key, h);
      }
      h.label = chartLabel(row);
      h.seen = t;
      h.r10 = row.in.r10 + row.out.r10;
      h.points.push({ t: t, in: row.in.r2, out: row.out.r2 });
    });
    history.forEach(function (h, key) {
      while (h.points.length && h.points[0].t < t - HISTORY_MS) h.points.shift();
      if (h.seen !== t) h.r10 = 0;
      if (!h.points.length) history.delete(key);
    });
    /* The charted keys: the busiest now. A key keeps its colour while it stays charted. */
    var top = [];
    history.forEach(function (h, key) { if (h.seen === t && h.r10 > 0) top.push(key); });
    top.sort(function (a, b) { return history.get(b).r10 - history.get(a).r10; });
    top = top.slice(0, CHART_TALKERS);
    colours.forEach(function (_, key) { if (top.indexOf(key) < 0) colours.delete(key); });
    top.forEach(function (key) {
      if (colours.has(key)) return;
      var used = new Set(colours.values());
      for (var i = 0; i < PALETTE.length; i++) {
        if (!used.has(i)) { colours.set(key, i); break; }
      }
    });
  }

  function series(points, dir, sign, mult) {
    var out = [];
    for (var i = 0; i < points.length; i++) {
      /* A key missing from answers for a while leaves a gap, not a straight line across. */
      if (i > 0 && points[i].t - points[i - 1].t > 3 * REFRESH_MS)
        out.push({ x: points[i - 1].t + REFRESH_MS, y: null });
      out.push({ x: points[i].t, y: sign * points[i][dir] * mult });
    }
    return out;
  }

  function renderChart() {
    var canvas = $('chart');
    var mult = state.units === 'bits' ? 8 : 1;
    var keys = Array.from(colours.keys()).sort(function (a, b) {
      return colours.get(a) - colours.get(b);
    });
    var datasets = [];
    var points = 0;
    var newest = 0;
    var oldest = Infinity;
    keys.forEach(function (key) {
      var h = history.get(key);
      var c = PALETTE[colours.get(key)];
      var hidden = hiddenKeys.has(key);
      h.points.forEach(function (p) {
        newest = Math.max(newest, p.t);
        oldest = Math.min(oldest, p.t);
      });
      ['in', 'out'].forEach(function (dir) {
        var data = series(h.points, dir, dir === 'in' ? 1 : -1, mult);
        points += data.length;
        datasets.push({
          label: h.label + (dir === 'in' ? ' in' : ' out'),
          key: key,
          data: data,
          hidden: hidden,
          borderColor: c,
          backgroundColor: alpha(c, dir === 'in' ? 0.12 : 0.07),
          borderWidth: dir === 'in' ? 2 : 1.5,
          borderDash: dir === 'in' ? [] : [5, 3],
          fill: 'origin',
          pointRadius: 0,
          pointHoverRadius: 3,
          tension: 0.3,
          cubicInterpolationMode: 'monotone', /* smooth, but never past the values */
          spanGaps: false
        });
      });
    });
    canvas.dataset.points = String(points);
    canvas.dataset.series = String(datasets.length);
    renderLegend(keys);
    if (!chart) return;
    /* The axis spans what has been seen, up to the last HISTORY_MS. */
    if (!newest) newest = Date.now();
    var span = Math.max(20000, Math.min(HISTORY_MS, newest - oldest));
    var step = span > 120000 ? 30000 : (span > 40000 ? 10000 : 5000);
    chart.options.scales.x.min = newest - span;
    chart.options.scales.x.max = newest;
    chart.options.scales.x.ticks.stepSize = step;
    $('chart-span').textContent = span >= 60000 ? Math.round(span / 60000) + ' min' :
      Math.round(span / 1000) + ' s';
    chart.data.datasets = datasets;
    chart.update('none');
  }

  function renderLegend(keys) {
    var legend = document.createElement('div');
    legend.id = 'chart-legend';
    legend.className = 'chart-legend';
    keys.forEach(function (key) {
      var b = document.createElement('button');
      b.type = 'button';
      if (hiddenKeys.has(key)) b.className = 'off';
      var sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.background = PALETTE[colours.get(key)];
      var label = document.createElement('span');
      label.textContent = history.get(key).label;
      b.title = history.get(key).label + ' (click to hide or show)';
      b.appendChild(sw);
      b.appendChild(label);
      b.addEventListener('click', function () {
        if (hiddenKeys.has(key)) hiddenKeys.delete(key);
        else hiddenKeys.add(key);
        renderChart();
      });
      legend.appendChild(b);
    });
    $('chart-legend').replaceWith(legend);
  }

  function makeChart() {
    if (typeof Chart === 'undefined') {
      $('chart').parentNode.textContent = 'chart unavailable (assets/chart.js did not load)';
      return;
    }
    var text = cssVar('--muted');
    var grid = cssVar('--grid');
    var axis = cssVar('--axis');
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.font.size = 11;
    Chart.defaults.color = text;
    chart = new Chart($('chart'), {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        normalized: true,
        parsing: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            grid: { color: grid, drawBorder: false },
            ticks: {
              maxRotation: 0,
              autoSkipPadding: 16,
              callback: function (v) { return clock(v); }
            },
            /* Ticks on whole multiples of the step (10:41:30, 10:42:00), not counted from
             * the axis' left end. */
            afterBuildTicks: function (axis) {
              var step = axis.options.ticks.stepSize || 10000;
              var ticks = [];
              for (var v = Math.ceil(axis.min / step) * step; v <= axis.max; v += step)
                ticks.push({ value: v });
              axis.ticks = ticks;
            }
          },
          y: {
            grace: '8%',
            grid: {
              drawBorder: false,
              color: function (ctx) { return ctx.tick && ctx.tick.value === 0 ? axis : grid; }
            },
            ticks: {
              maxTicksLimit: 7,
              callback: function (v) {
                /* Axis labels without trailing zeros: "20 Mb/s", "2.5 Mb/s". */
                return rate(Math.abs(v) / (state.units === 'bits' ? 8 : 1))
                  .replace(/\.0+ /, ' ').replace(/(\.\d*?)0+ /, '$1 ');
              }
            }
          }
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? clock(items[0].parsed.x) : ''; },
              label: function (item) {
                var v = Math.abs(item.parsed.y) / (state.units === 'bits' ? 8 : 1);
                return ' ' + item.dataset.label + ': ' + rate(v);
              }
            }
          }
        }
      }
    });
  }

  /* Controls. */
  function changed(resetHistory) {
    if (resetHistory) {
      history.clear();
      lastAnswer = 0;
      colours.clear();
      hiddenKeys.clear();
    }
    writeHash();
    renderHeads();
    if (resetHistory) {
      /* Rows of the old grouping would not fit the new columns. */
      lastFlows = null;
      renderTable({ rows: [], loading: true });
      renderChart();
    } else if (lastFlows) {
      renderTable(lastFlows);
      renderChart();
    }
    if (!paused) schedule(0);
  }

  function bind() {
    $('group').addEventListener('change', function (e) {
      state.group = e.target.value;
      changed(true);
    });
    $('limit').addEventListener('change', function (e) {
      state.limit = parseInt(e.target.value, 10) || 50;
      changed(false);
    });
    var debounce = null;
    $('filter').addEventListener('input', function (e) {
      clearTimeout(debounce);
      debounce = setTimeout(function () {
        state.filter = e.target.value.trim();
        changed(false);
      }, 350);
    });
    $('filter').addEventListener('keydown', function (e) {
      if (e.key === 'Enter') {
        clearTimeout(debounce);
        state.filter = e.target.value.trim();
        changed(false);
      }
    });
    document.querySelectorAll('#units button').forEach(function (b) {
      b.addEventListener('click', function () {
        state.units = b.dataset.units;
        writeHash();
        renderHeads();
        if (lastFlows) renderTable(lastFlows);
        renderChart();
      });
    });
    document.querySelectorAll('th.sortable').forEach(function (th) {
      th.addEventListener('click', function () {
        var s = th.dataset.sort;
        if (state.sort === s) state.order = state.order === 'desc' ? 'asc' : 'desc';
        else state.order = s === 'name' ? 'asc' : 'desc';
        state.sort = s;
        changed(false);
      });
    });
    $('pause').addEventListener('click', function () {
      paused = !paused;
      $('pause').textContent = paused ? 'Resume' : 'Pause';
      $('pause').classList.toggle('on', paused);
      setStatus([], '');
      if (paused) clearTimeout(timer);
      else schedule(0);
    });
    window.addEventListener('hashchange', function () {
      var before = state.group;
      readHash();
      changed(state.group !== before);
    });
  }

  function start() {
    readHash();
    renderHeads();
    makeChart();
    bind();
    refresh();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
