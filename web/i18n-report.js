/* The report's words in English (see i18n.js; the Korean is in i18n-report-ko.js, the
 * Korean of the figure catalogue in i18n-figures.js). Keys: `report.*` the page and its
 * summary, `chart.*` the charts, `table.*` the tables, `fault.*` the faults section,
 * `proxy.*` the proxy table, `model.*` what report-model.js writes.
 */
(function (messages) {
  'use strict';
  Object.assign(messages.en, {
    'lang.switch': 'language',
    'notMeasured': 'not measured',
    'notApplicable': 'not applicable',
    'better.lower': 'lower is better',
    'better.higher': 'higher is better',
    'report.docTitle': 'pushlab — results report',
    'report.title': 'pushlab results',
    'report.loading': 'loading…',
    'report.open': 'Open results file…',
    'report.demo': 'live demo',
    'report.summary': 'What was measured',
    'report.charts': 'Charts',
    'report.faultsTitle': 'Faults: restarts, crashes, recycling and reconnect storms',
    'report.faultsReading': 'What each transport\'s clients went through when the server did not stay up, one run per fault ' +
      'and transport: how long until each client had a tick again (recovery time, defined in <code>docs/methodology.md</code>), ' +
      'and what it cost. Ticks lost count within one run of the server\'s log (an epoch); what was missed across a restart ' +
      'is unknown and counted as resets instead.',
    'report.proxiesTitle': 'What each proxy did to each transport',
    'report.proxiesReading': 'One run per transport through each proxy of the proxy lab (<code>docs/proxies.md</code>): ' +
      '<em>broken</em> (most ticks never arrived), <em>cut</em> (the proxy ended requests after its read timeout), ' +
      '<em>slowed</em> (median latency well above the same run direct: ticks held back) or <em>works</em> ' +
      '(<code>docs/methodology.md</code>, "Proxy outcomes"). Hover an outcome for what it rests on.',
    'report.calibrationTitle': 'This machine, calibrated',
    'report.numbersTitle': 'All numbers',
    'report.numbersReading': 'One column per run, one row per figure; figures are defined in ' +
      '<code>docs/methodology.md</code>, and labelled by the catalogue in the results file. Bytes in decimal units ' +
      '(1 kB = 1,000 B); “not measured” marks a figure the run could not measure; a red number is a problem ' +
      '(lost, duplicated or late ticks, errors). Hover a figure for what it is and which way is better.',
    'report.drop': 'Drop a results JSON file to open it',
    'report.embedded': 'the results embedded in this page',
    'report.notResults': '{source} is not a pushlab results file: {problems}.',
    'report.predates': '{source} predates the figure catalogue, and none could be fetched from /api/figures: ' +
      'open it from the report of a running pushlab-server.',
    'report.from': 'from {source}',
    'report.noResults': 'no results loaded',
    'report.fixture': 'This file is a fixture, not a measurement.',
    'report.preset': 'Preset “{preset}”: ',
    'report.faultKind': '{fault} ({policy}, {clients} clients)',
    'report.faultRuns': '{preset}{count} fault runs, each against a fresh server: {kinds}. The server was killed or restarted ' +
      'a second into each window, and the clients timed until they had a tick again.',
    'report.runs': '{preset}{transports} with {clients} clients at {rates} ticks/s{listed}{polling}{duration}{sweep}.',
    'report.listed': ', in {n} listed runs (each chart\'s bars are one run\'s settings)',
    'report.polling': ', polling every {interval}',
    'report.duration': ', measured for {seconds} s per run',
    'report.sweep': ' — a sweep, so the charts draw lines against client count',
    'report.machine': 'Run {date} on {cores} cores, {memory}, {os}{kernel}. A fresh server process served each transport.',
    'report.noDate': '(no date)',
    'report.noMemory': '? memory',
    'report.noOs': 'unknown OS',
    'report.kernel': ', kernel {kernel}',
    'report.oldCatalogue': 'This file predates the figure catalogue in results files: its labels and units are {whose}',
    'report.oldCatalogueServer': 'the server\'s (/api/figures).',
    'report.oldCataloguePage': 'those of the results shown before it.',
    'report.busy': 'The load generator used {pct} or more of a core in {n} run(s) ({runs}): there, part of the latency ' +
      'may be the load generator\'s, not the transport\'s.',
    'report.busyRun': '{transport} at {clients} clients',
    'report.crowded': 'The machine\'s load average was above its {cores} cores in {n} run(s): ' +
      'other work competed for the CPU there, so those figures are less trustworthy.',
    'report.calibrated': 'What one small loopback TCP call costs on the machine these results come from, measured by pushlab-load ' +
      'before the runs (docs/methodology.md, “Calibration”; “pushlab-load calibrate” measures the machine you are on). ' +
      'Server CPU per delivered tick is also given in these sends, so results from different machines compare. ' +
      'Each CPU figure is the median of its rounds, with the fastest and slowest round: a median far above the ' +
      'fastest says the machine was busy.',
    'report.notCalibrated': 'This file has no calibration: it was written before pushlab-load measured one, so its server CPU per tick ' +
      'cannot be given in sends either (not measured). “pushlab-load calibrate” measures the machine you are on.',
    'report.calibrationHead': 'loopback TCP, TCP_NODELAY',
    'report.measured': 'measured',
    'report.spread': 'fastest – slowest round',
    'report.badName': '“{name}” is not a results file name (letters, digits, - _ . only).',
    'report.serverAnswered': 'the server answered {status}',
    'report.couldNotLoad': 'Could not load {url} ({error}). Run `just compare` to make one, ' +
      'or open a results file with the button above (or drop it on this page).',
    'report.notJson': '{name} is not JSON ({error}).',
    'report.couldNotRead': 'Could not read {name}: {error}',
    'report.noChartLib': 'The chart library (vendor/chart.umd.min.js) did not load.',
    'report.badEmbedded': 'The results embedded in this page are not valid JSON ({error}).',
    'model.notObject': 'the file is not a JSON object',
    'model.schema': 'schema is {schema}, this page reads schema 1',
    'model.noRuns': 'it has no "runs" list',
    'model.badRun': 'a run lacks "transport" or "clients"',
    'model.badCatalogue': 'its "catalogue" lacks a list of figures or groups',
    'model.rate': '{rate} ticks/s',
    'model.pollEvery': 'poll every {interval}',
    'model.coalesce': 'coalesce {ms}',
    'model.link': 'link {name} (RTT {rtt})',
    'model.keepalive': 'keepalive {ms}',
    'model.clients': '{n} clients',
    'model.loopback': 'loopback calibration',
    'chart.latency.title': 'Latency percentiles',
    'chart.latency.reading': 'Time from a tick\'s scheduled time to its arrival at a client, per percentile, on a log scale ' +
      '(each grid decade is ten times the one below): lower is better, and polling sits near half its poll interval by design.',
    'chart.latency.sweep': 'Lines: p99 solid, p50 dashed.',
    'chart.requests.title': 'Requests per client per minute',
    'chart.requests.reading': 'HTTP requests (or WebSocket handshakes) each client made per minute: polling pays one per ' +
      'interval even when nothing changed, long-polling one per answer, SSE and WebSocket only their one connection ' +
      '(usually 0 in the window, as they connected before it).',
    'chart.bytes.title': 'Wire bytes per delivered tick',
    'chart.bytes.reading': 'Bytes read and written on the client sockets, headers and framing included, divided by the ticks ' +
      'delivered; a tick\'s JSON is about 70 bytes, so the rest is what the transport adds on the wire.',
    'chart.cpu.title': 'Server CPU per delivered tick',
    'chart.cpu.reading': 'Server CPU time (user + system) over the measurement window divided by the ticks delivered: ' +
      'what each useful message costs the server, lower is better.',
    'chart.cpu-sends.title': 'Server CPU per delivered tick, in sends',
    'chart.cpu-sends.reading': 'The same CPU divided by what one small loopback send() to a waiting reader costs on the machine ' +
      'that measured it (its calibration, below the charts): 1× is one send\'s worth per tick, about the floor for a ' +
      'server that writes every tick with a call of its own. It compares across machines, where µs do not.',
    'chart.cpu-sends.axis': '× one send() to a waiting reader',
    'chart.memory.title': 'Server memory per connection',
    'chart.memory.reading': 'Memory the server (RSS, heap) holds per connected client, from the growth between no clients and ' +
      'all connected, and what the kernel holds for each of the server\'s sockets: the data in its buffers (as the ' +
      'kernel lists them, socket by socket) and the socket object itself (its slab size). A polling client costs ' +
      'this too while it keeps its keep-alive connection open between polls.',
    'chart.memory.sweep': 'Lines: RSS solid, heap dashed (the kernel\'s figures are in the table).',
    'chart.coalescing.title': 'Write coalescing: latency against server CPU per tick',
    'chart.coalescing.reading': 'Each point is one run; each line runs through --coalesce {values} ' +
      '(0 = off) in that order. Right costs the server more CPU per delivered tick, up waits longer: coalescing trades ' +
      'writes per tick for up to its delay in latency. Solid p99, dashed p50; hover a point for its value.',
    'chart.coalescing.x': 'server CPU per delivered tick (µs)',
    'chart.coalescing.tooltip': '{label}: {latency} at {cpu} per tick, coalesce {coalesce}',
    'chart.latencyAxis': 'latency',
    'chart.clientsAxis': 'clients',
    'chart.aria': '{title}, in {axis}',
    'chart.rtt.title': 'Latency against the link\'s round trip',
    'chart.rtt.reading': 'Each point is one run over an emulated link (hover for its name); the x axis is the link\'s round trip. ' +
      'SSE and WebSocket pay about one way; a long-poll that always finds ticks waiting pays a round trip per answer; ' +
      'polling pays half its interval plus one way. A lossy link shows in p99 (solid) more than p50 (dashed): a lost segment ' +
      'stalls its stream for a retransmission timeout, and every tick behind it waits.',
    'chart.rtt.x': 'link round trip (ms)',
    'chart.rtt.tooltip': '{label} over {link}: {latency}',
    'chart.radio.axis': 'J per hour per client (model)',
    'chart.radio.title': 'Radio energy per client, {model} model — a model applied to measured timings',
    'chart.radio.reading': 'What the clients\' measured socket activity would cost a phone\'s {model} radio, above idle, per hour ' +
      '(docs/methodology.md, "The radio model"): not a battery measurement. A radio stays in its high-power state for a tail ' +
      'of seconds after each burst, so how often bytes come (polls, ticks, keepalives) matters, not how many.',
    'table.figure': 'figure',
    'table.run': '{clients} clients, {rate}{coalesce}{protocol}',
    'table.coalesce': ', coalesce {ms}',
    'table.streams': ' × {n} streams',
    'table.better': ' ({better})',
    'table.overTls': '{name} over TLS',
    'fault.restart': 'Graceful restart (SIGTERM, then a new server)',
    'fault.crash': 'Crash (SIGKILL, then a new server)',
    'fault.recycle': 'Stream recycling (--stream-max-age)',
    'fault.storm': 'Reconnect storm (SIGKILL with all connected)',
    'fault.group': '{name} — {clients} clients, --reconnect {policy}',
    'fault.connects.title': 'Reconnect storm: connections per second',
    'fault.connects.axis': 'connects per second',
    'fault.connects.reading': 'TCP connects the clients completed, 100 ms at a time, from a second before the SIGKILL (0 ms) on; ' +
      'solid lines reconnect after a fixed 1 s, dashed ones with jitter. A fixed delay brings the whole crowd back in ' +
      'one burst; full jitter spreads it over its back-off. SSE waits its server\'s retry: either way, as EventSource does.',
    'fault.cpu.title': 'Reconnect storm: server CPU',
    'fault.cpu.axis': '% of one core',
    'fault.cpu.reading': 'CPU of the process serving, 100 ms at a time (the old one until the SIGKILL, then the new one; a gap ' +
      'while neither could be read). The burst of handshakes, resets and replays is the new server\'s cost of the storm.',
    'fault.neverRecovered': '{transport}: {n} clients never recovered',
    'fault.fromStreamEnd': 'each stream\'s end',
    'fault.fromInstant': 'the fault\'s instant',
    'fault.reading': 'Time from {from} to a client\'s first tick over a new connection, over every client ' +
      '(docs/methodology.md, “Recovery time”).',
    'fault.axis': 'recovery time',
    'fault.title': 'Recovery: {group}',
    'fault.stormX': 'ms after the SIGKILL',
    'fault.series': '{transport}, {policy}',
    'fault.column': '{fault}, {policy}',
    'proxy.transport': 'transport',
    'proxy.rate': '{rate} ticks/s',
    'proxy.keepalive': 'keepalive {keepalive}',
    // Values of the results file that are words, shown translated where the page knows them.
    'value.restart': 'restart', 'value.crash': 'crash', 'value.recycle': 'recycle', 'value.storm': 'storm',
    'value.fixed': 'fixed', 'value.jitter': 'jitter', 'value.none': 'none', 'value.off': 'off',
    'value.works': 'works', 'value.broken': 'broken', 'value.cut': 'cut', 'value.slowed': 'slowed',
    'value.direct': 'direct', 'value.not-compared': 'not-compared', 'value.no stream': 'no stream',
  });
})((window.pushlab = window.pushlab || {}).messages = window.pushlab.messages || { en: {}, ko: {} });
